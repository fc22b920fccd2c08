package config

import (
	"strings"
	"testing"
)

func TestRedactDSN(t *testing.T) {
	s := secret
	for _, tc := range []struct{ in, want string }{
		// URLs
		{"postgres://u:" + s + "@h:5432/db?sslmode=disable&application_name=dap", "postgres://u:xxxxx@h:5432/db?sslmode=disable&application_name=dap"},
		{"postgresql://u:p%40" + s + "@h/db", "postgresql://u:xxxxx@h/db"},
		{"postgres://u:p@" + s + "@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:p/" + s + "@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u:p?" + s + "@h/db", "postgres://u:xxxxx@h/db"},
		{"postgres://u@h/db", "postgres://u@h/db"},
		{"postgres://h1:5432,h2:5432/db", "postgres://h1:5432,h2:5432/db"},
		{"postgres://h/db?password=" + s + "&sslmode=require", "postgres://h/db?password=xxxxx&sslmode=require"},
		{"postgres://h/db?sslpassword=" + s, "postgres://h/db?sslpassword=xxxxx"},
		{"sqlserver://u:" + s + "@h:1433?database=d", "sqlserver://u:xxxxx@h:1433?database=d"},
		{"sqlserver://u@h?database=d&password=" + s, "sqlserver://u@h?database=d&password=xxxxx"},
		// libpq key=value
		{"host=h user=u password=" + s + " dbname=d", "host=h user=u password=xxxxx dbname=d"},
		{"host=h password = '" + s + " with \\' quote' dbname=d", "host=h password = xxxxx dbname=d"},
		{"host=h password=a\\ " + s + " dbname=d", "host=h password=xxxxx dbname=d"},
		{"host=h password=a;" + s + " dbname=d", "host=h password=xxxxx dbname=d"},
		{"host=h passfile=/x user=pwd", "host=h passfile=/x user=pwd"},
		{"host=h PASSWORD=" + s, "host=h PASSWORD=xxxxx"},
		// ADO / ODBC
		{"Server=h;User Id=u;Pwd=" + s + ";Database=d", "Server=h;User Id=u;Pwd=xxxxx;Database=d"},
		{"server=h;password=my " + s + ";database=d", "server=h;password=xxxxx;database=d"},
		{"server=h;password=\"a;" + s + "\";database=d", "server=h;password=xxxxx;database=d"},
		{"odbc:server=h;pwd={a;}}" + s + "};database=d", "odbc:server=h;pwd=xxxxx;database=d"},
		{"Server=h;Password=" + s, "Server=h;Password=xxxxx"},
		// go-sql-driver
		{"u:" + s + "@tcp(h:3306)/db?parseTime=true", "u:xxxxx@tcp(h:3306)/db?parseTime=true"},
		{"u:p:" + s + "@unix(/s)/db", "u:xxxxx@unix(/s)/db"},
		{"u:p@" + s + "@tcp(h)/db", "u:xxxxx@tcp(h)/db"},
		{"u:p/" + s + "@tcp(h)/db", "u:xxxxx@tcp(h)/db"},
		{"u@tcp(h:3306)/db", "u@tcp(h:3306)/db"},
		{"tcp(h:3306)/db", "tcp(h:3306)/db"},
		// no password at all
		{"/var/lib/x.db", "/var/lib/x.db"},
		{"file:/var/lib/x.db?_pragma=busy_timeout(5000)", "file:/var/lib/x.db?_pragma=busy_timeout(5000)"},
		{"", ""},
		// malformed: hide, never show
		{"postgres://u:" + s, "postgres://u:" + s}, // no @: this is host:port, nothing to hide by the URL rules
		{"host=h password='" + s, "host=h password=xxxxx"},
	} {
		got := RedactDSN(tc.in)
		if got != tc.want {
			t.Errorf("RedactDSN(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
		if strings.Contains(got, s) && strings.Contains(tc.want, "xxxxx") {
			t.Errorf("RedactDSN(%q) leaks the secret: %q", tc.in, got)
		}
	}
}
