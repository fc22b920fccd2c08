package demo

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Seeds of the PCG generator: fixed, so every run writes the same data.
const seed1, seed2 = 0x5eed_da7a, 0xdab_5109

// refDate is "today" for the generator (ages, order dates): a constant, so
// the data does not depend on when it is generated.
var refDate = time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)

var firstNames = []string{"Ada", "Alan", "Grace", "Linus", "Margaret", "Dennis", "Barbara", "Ken", "Frances", "Donald",
	"Edsger", "Radia", "John", "Sophie", "Tim", "Hedy", "Niklaus", "Karen", "Guido", "Joan", "Bjarne", "Anita",
	"James", "Mary", "Robert", "Patricia", "Michael", "Jennifer", "William", "Elizabeth", "David", "Susan",
	"Oliver", "Amelia", "Harry", "Isla", "Lukas", "Mia", "Jonas", "Emma", "Louis", "Chloe", "Hugo", "Lea",
	"Noah", "Olivia", "Liam", "Charlotte", "Ethan", "Zoe"}

var lastNames = []string{"Lovelace", "Turing", "Hopper", "Torvalds", "Hamilton", "Ritchie", "Liskov", "Thompson",
	"Allen", "Knuth", "Dijkstra", "Perlman", "McCarthy", "Wilson", "Berners-Lee", "Lamarr", "Wirth", "Jones",
	"van Rossum", "Clarke", "Stroustrup", "Borg", "Smith", "Johnson", "Williams", "Brown", "Miller", "Davis",
	"Taylor", "Evans", "Walker", "Wright", "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Martin",
	"Bernard", "Dubois", "Laurent", "Lefèvre", "Moreau", "Fournier", "Tremblay", "Gagnon", "Roy", "Côté",
	"O'Brien", "Nguyen"}

var emailDomains = []string{"example.com", "example.org", "example.net", "mail.test", "inbox.test"}

var streetNames = []string{"Oak", "Maple", "Cedar", "Elm", "Pine", "Church", "High", "Station", "Mill", "Park",
	"King", "Queen", "Victoria", "Bridge", "Garden", "River", "Lake", "Hill", "Market", "School"}

// country is one country's formats and cities.
type country struct {
	code    string
	weight  int
	cities  []string
	streets []string // suffixes, or prefixes when prefix is set
	prefix  bool
}

var countries = []country{
	{"US", 40, []string{"Springfield", "Portland", "Austin", "Denver", "Boston", "Seattle", "Chicago", "Madison"}, []string{"Street", "Avenue", "Road", "Lane", "Drive"}, false},
	{"GB", 20, []string{"London", "Manchester", "Leeds", "Bristol", "Cambridge", "Oxford", "York", "Brighton"}, []string{"Street", "Road", "Lane", "Close", "Way"}, false},
	{"CA", 10, []string{"Toronto", "Montreal", "Vancouver", "Ottawa", "Calgary", "Halifax"}, []string{"Street", "Avenue", "Road", "Crescent"}, false},
	{"DE", 15, []string{"Berlin", "Hamburg", "München", "Köln", "Leipzig", "Dresden", "Bremen"}, []string{"straße", "weg", "allee", "gasse"}, false},
	{"FR", 15, []string{"Paris", "Lyon", "Marseille", "Toulouse", "Nantes", "Lille", "Bordeaux"}, []string{"rue", "avenue", "boulevard", "place"}, true},
}

var categories = []string{"Books", "Electronics", "Garden", "Kitchen", "Toys", "Sports", "Office", "Music", "Clothing", "Health"}

var productAdjectives = []string{"Classic", "Compact", "Deluxe", "Eco", "Ergonomic", "Portable", "Smart", "Vintage",
	"Wireless", "Heavy-duty", "Mini", "Premium", "Rugged", "Silent", "Solar"}

var productNouns = map[string][]string{
	"Books":       {"Novel", "Cookbook", "Atlas", "Field Guide", "Anthology"},
	"Electronics": {"Headphones", "Speaker", "Charger", "Keyboard", "Monitor"},
	"Garden":      {"Hose", "Trowel", "Planter", "Rake", "Sprinkler"},
	"Kitchen":     {"Kettle", "Blender", "Skillet", "Knife Set", "Toaster"},
	"Toys":        {"Puzzle", "Kite", "Robot Kit", "Board Game", "Yo-yo"},
	"Sports":      {"Yoga Mat", "Tennis Racket", "Water Bottle", "Football", "Helmet"},
	"Office":      {"Stapler", "Desk Lamp", "Notebook", "Chair", "Pen Set"},
	"Music":       {"Ukulele", "Metronome", "Guitar Strings", "Harmonica", "Drum Pad"},
	"Clothing":    {"Jacket", "Scarf", "Sneakers", "Hoodie", "Rain Coat"},
	"Health":      {"Thermometer", "First Aid Kit", "Scale", "Massager", "Pill Box"},
}

var statuses = []struct {
	name   string
	weight int
}{{"pending", 5}, {"paid", 10}, {"shipped", 15}, {"delivered", 62}, {"cancelled", 8}}

var plainNotes = []string{"", "", "", "", "", "Prefers delivery after 5pm.", "Gift wrap when possible.",
	"VIP customer since the spring sale.", "Asked about bulk discounts.", "Leave parcels with the neighbour.",
	"Returned an item once; no issues.", "Subscribed to the newsletter.", "Ring the bell twice."}

// generator draws every value from one seeded PCG stream, in a fixed order.
type generator struct {
	r  *rand.Rand
	sz sizes
}

func newGenerator(sz sizes) *generator {
	return &generator{r: rand.New(rand.NewPCG(seed1, seed2)), sz: sz}
}

func (g *generator) pick(s []string) string { return s[g.r.IntN(len(s))] }

func (g *generator) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + g.r.IntN(10))
	}
	return string(b)
}

// customer is what orders need to know about a customer.
type customer struct {
	city    string
	created time.Time
}

type product struct {
	priceCents int64
}

func (g *generator) write(ctx context.Context, tx *sql.Tx) error {
	custs, err := g.customers(ctx, tx)
	if err != nil {
		return fmt.Errorf("customers: %w", err)
	}
	prods, err := g.products(ctx, tx)
	if err != nil {
		return fmt.Errorf("products: %w", err)
	}
	if err := g.orders(ctx, tx, custs, prods); err != nil {
		return fmt.Errorf("orders: %w", err)
	}
	return nil
}

func (g *generator) customers(ctx context.Context, tx *sql.Tx) ([]customer, error) {
	b := newBatcher(ctx, tx, "customers", "id", "first_name", "last_name", "email", "phone", "street", "city",
		"postal_code", "country", "date_of_birth", "card_number", "notes", "created_at")
	defer b.close()
	out := make([]customer, 0, g.sz.customers)
	total := 0
	for _, c := range countries {
		total += c.weight
	}
	for id := 1; id <= g.sz.customers; id++ {
		var c country
		w := g.r.IntN(total)
		for _, c = range countries {
			if w < c.weight {
				break
			}
			w -= c.weight
		}
		first, last := g.pick(firstNames), g.pick(lastNames)
		email := emailLocal(first) + "." + emailLocal(last) + fmt.Sprint(id) + "@" + g.pick(emailDomains)
		phone := g.phone(c.code)
		street := g.street(c)
		city := g.pick(c.cities)
		postal := g.postal(c.code)
		age := 18 + g.r.IntN(73)
		dob := refDate.AddDate(-age, 0, -g.r.IntN(365))
		card := g.card()
		created := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(g.r.Int64N(int64(5*365*24*time.Hour))) / time.Second * time.Second)
		notes := g.note(first, last)
		if err := b.add(id, first, last, email, phone, street, city, postal, c.code, dob.Format(time.DateOnly), card,
			notes, created.Format(time.DateTime)); err != nil {
			return nil, err
		}
		out = append(out, customer{city: city, created: created})
	}
	return out, b.flush()
}

// emailLocal turns a name into an ASCII mailbox part.
func emailLocal(name string) string {
	r := strings.NewReplacer("ü", "u", "è", "e", "é", "e", "ô", "o", "'", "", " ", "", "-", "")
	return strings.ToLower(r.Replace(name))
}

// phone returns an E.164 number in a plausible national plan: NANP numbers
// avoid 0/1 at the start of area code and exchange and use 555-01xx
// fictional lines half the time; UK and French numbers are mobiles;
// German ones are 15x/16x/17x mobiles.
func (g *generator) phone(cc string) string {
	switch cc {
	case "US", "CA":
		area := fmt.Sprintf("%d%s", 2+g.r.IntN(8), g.digits(2))
		if g.r.IntN(2) == 0 {
			return "+1" + area + "55501" + g.digits(2)
		}
		return "+1" + area + fmt.Sprintf("%d%s", 2+g.r.IntN(8), g.digits(2)) + g.digits(4)
	case "GB":
		return "+447" + fmt.Sprint(4+g.r.IntN(6)) + g.digits(8)
	case "DE":
		return "+491" + fmt.Sprint(5+g.r.IntN(3)) + g.digits(9)
	default: // FR
		return "+33" + fmt.Sprint(6+g.r.IntN(2)) + g.digits(8)
	}
}

func (g *generator) street(c country) string {
	n := 1 + g.r.IntN(250)
	name, kind := g.pick(streetNames), g.pick(c.streets)
	switch {
	case c.prefix:
		return fmt.Sprintf("%d %s du %s", n, kind, name)
	case c.code == "DE":
		return fmt.Sprintf("%s%s %d", name, kind, n)
	}
	return fmt.Sprintf("%d %s %s", n, name, kind)
}

func (g *generator) postal(cc string) string {
	letter := func() byte { return "ABCEGHJKLMNPRSTVXY"[g.r.IntN(18)] }
	switch cc {
	case "CA":
		return fmt.Sprintf("%c%d%c %d%c%d", letter(), g.r.IntN(10), letter(), g.r.IntN(10), letter(), g.r.IntN(10))
	case "GB":
		return fmt.Sprintf("%c%c%d %d%c%c", letter(), letter(), 1+g.r.IntN(20), g.r.IntN(10), letter(), letter())
	case "US":
		return fmt.Sprintf("%05d", 1001+g.r.IntN(98000))
	default:
		return fmt.Sprintf("%05d", 1001+g.r.IntN(98000))
	}
}

// card returns a 16-digit Visa (4) or Mastercard (51-55) number with a
// valid Luhn check digit.
func (g *generator) card() string {
	var prefix string
	if g.r.IntN(2) == 0 {
		prefix = "4"
	} else {
		prefix = fmt.Sprint(51 + g.r.IntN(5))
	}
	body := prefix + g.digits(15-len(prefix))
	return body + string(rune('0'+luhnCheckDigit(body)))
}

// luhnCheckDigit is the digit that makes body+digit pass the Luhn check.
func luhnCheckDigit(body string) int {
	sum := 0
	for i := len(body) - 1; i >= 0; i-- {
		d := int(body[i] - '0')
		if (len(body)-1-i)%2 == 0 { // doubled: these are every second digit from the right once the check digit is appended
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return (10 - sum%10) % 10
}

// note is free text; about one in twenty mentions an email address or a
// phone number, for PII detection to find.
func (g *generator) note(first, last string) string {
	switch g.r.IntN(40) {
	case 0:
		return fmt.Sprintf("Also reachable at %s.%s@%s for invoices.", emailLocal(first), emailLocal(last), g.pick(emailDomains))
	case 1:
		return fmt.Sprintf("Call %s before delivery.", g.phone(g.pick([]string{"US", "GB", "DE", "FR"})))
	}
	return g.pick(plainNotes)
}

func (g *generator) products(ctx context.Context, tx *sql.Tx) ([]product, error) {
	b := newBatcher(ctx, tx, "products", "id", "sku", "name", "category", "price", "stock")
	defer b.close()
	out := make([]product, 0, g.sz.products)
	for id := 1; id <= g.sz.products; id++ {
		cat := g.pick(categories)
		name := g.pick(productAdjectives) + " " + g.pick(productNouns[cat])
		cents := int64(199 + g.r.IntN(49800))
		cents = cents - cents%100 + 99 // prices end in .99
		if err := b.add(id, fmt.Sprintf("SKU-%05d", id), name, cat, float64(cents)/100, g.r.IntN(500)); err != nil {
			return nil, err
		}
		out = append(out, product{priceCents: cents})
	}
	return out, b.flush()
}

func (g *generator) orders(ctx context.Context, tx *sql.Tx, custs []customer, prods []product) error {
	ob := newBatcher(ctx, tx, "orders", "id", "customer_id", "status", "ordered_at", "total", "shipping_city")
	defer ob.close()
	ib := newBatcher(ctx, tx, "order_items", "id", "order_id", "product_id", "quantity", "unit_price")
	defer ib.close()
	statusTotal := 0
	for _, s := range statuses {
		statusTotal += s.weight
	}
	itemID := 0
	for id := 1; id <= g.sz.orders; id++ {
		ci := g.r.IntN(len(custs))
		c := custs[ci]
		span := refDate.Sub(c.created)
		at := c.created.Add(time.Duration(g.r.Int64N(int64(span))) / time.Second * time.Second)
		w := g.r.IntN(statusTotal)
		status := ""
		for _, s := range statuses {
			if w < s.weight {
				status = s.name
				break
			}
			w -= s.weight
		}
		city := c.city
		if g.r.IntN(10) == 0 {
			city = g.pick(countries[g.r.IntN(len(countries))].cities)
		}
		// Items first: the order's total is their sum, in exact cents.
		var totalCents int64
		n := 1 + g.r.IntN(5)
		for range n {
			itemID++
			pi := g.r.IntN(len(prods))
			q := 1 + g.r.IntN(4)
			totalCents += prods[pi].priceCents * int64(q)
			if err := ib.add(itemID, id, pi+1, q, float64(prods[pi].priceCents)/100); err != nil {
				return err
			}
		}
		if err := ob.add(id, ci+1, status, at.Format(time.DateTime), float64(totalCents)/100, city); err != nil {
			return err
		}
	}
	if err := ob.flush(); err != nil {
		return err
	}
	return ib.flush()
}

// batchRows is the number of rows per multi-row INSERT.
const batchRows = 200

// batcher inserts rows batchRows at a time with one prepared multi-row
// INSERT, and the remainder with a statement of its own.
type batcher struct {
	ctx   context.Context
	tx    *sql.Tx
	table string
	cols  []string
	stmt  *sql.Stmt
	buf   []any
	n     int
}

func newBatcher(ctx context.Context, tx *sql.Tx, table string, cols ...string) *batcher {
	return &batcher{ctx: ctx, tx: tx, table: table, cols: cols, buf: make([]any, 0, batchRows*len(cols))}
}

func (b *batcher) insertSQL(rows int) string {
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(b.cols)), ",") + ")"
	return "INSERT INTO " + b.table + " (" + strings.Join(b.cols, ", ") + ") VALUES " +
		strings.TrimSuffix(strings.Repeat(one+",", rows), ",")
}

func (b *batcher) add(vals ...any) error {
	b.buf = append(b.buf, vals...)
	b.n++
	if b.n < batchRows {
		return nil
	}
	if b.stmt == nil {
		s, err := b.tx.PrepareContext(b.ctx, b.insertSQL(batchRows))
		if err != nil {
			return err
		}
		b.stmt = s
	}
	if _, err := b.stmt.ExecContext(b.ctx, b.buf...); err != nil {
		return err
	}
	b.buf, b.n = b.buf[:0], 0
	return nil
}

func (b *batcher) flush() error {
	if b.n == 0 {
		return nil
	}
	if _, err := b.tx.ExecContext(b.ctx, b.insertSQL(b.n), b.buf...); err != nil {
		return err
	}
	b.buf, b.n = b.buf[:0], 0
	return nil
}

func (b *batcher) close() {
	if b.stmt != nil {
		b.stmt.Close()
	}
}
