package mcpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/google/jsonschema-go/jsonschema"
	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/dap-platform/dap/internal/engine"
	"github.com/dap-platform/dap/internal/gateway"
)

// Tool inputs. Descriptions live next to the fields; the SDK derives the
// JSON schemas from these types.
type (
	noInput     struct{}
	targetInput struct {
		Target string `json:"target" jsonschema:"target name, as list_targets shows it"`
	}
	listTablesInput struct {
		Target  string `json:"target" jsonschema:"target name, as list_targets shows it"`
		Schema  string `json:"schema,omitempty" jsonschema:"only tables in this schema (PostgreSQL schema, MySQL database); all user schemas when omitted"`
		Pattern string `json:"pattern,omitempty" jsonschema:"filter by table name: a glob such as order* or *_log (* and % match any run of characters, ? one character), or a plain substring; case-insensitive"`
	}
	describeTableInput struct {
		Target string `json:"target" jsonschema:"target name, as list_targets shows it"`
		Table  string `json:"table" jsonschema:"table or view name, optionally schema-qualified: orders or sales.orders (quote parts that contain dots)"`
	}
	executeSQLInput struct {
		Target  string `json:"target" jsonschema:"target name, as list_targets shows it"`
		SQL     string `json:"sql" jsonschema:"exactly one SQL statement in the target engine's dialect; no transaction control"`
		MaxRows int    `json:"max_rows,omitempty" jsonschema:"return at most this many rows (cannot exceed the target's max_rows); prefer LIMIT in the SQL"`
	}
	explainInput struct {
		Target  string `json:"target" jsonschema:"target name, as list_targets shows it"`
		SQL     string `json:"sql" jsonschema:"the statement to explain, without the EXPLAIN keyword"`
		Analyze bool   `json:"analyze,omitempty" jsonschema:"execute the statement to report actual times and rows; reads only, and it runs under the statement timeout"`
	}
	procedureInput struct {
		Target    string         `json:"target" jsonschema:"target name, as list_targets shows it"`
		Procedure string         `json:"procedure" jsonschema:"procedure or function name, optionally schema-qualified; must be on the target's allow-list (see list_procedures)"`
		Args      map[string]any `json:"args,omitempty" jsonschema:"arguments by parameter name (or $1, $2 for unnamed parameters); values are JSON: numbers, strings, booleans, dates as YYYY-MM-DD, timestamps in RFC 3339; integers beyond 2^53 as strings"`
	}
)

// Tool outputs that wrap lists, since structured content is an object.
type (
	targetsOutput struct {
		Targets []gateway.TargetInfo `json:"targets"`
	}
	schemasOutput struct {
		Target  string          `json:"target"`
		Schemas []engine.Schema `json:"schemas"`
	}
	tablesOutput struct {
		Target string         `json:"target"`
		Tables []engine.Table `json:"tables"`
	}
	proceduresOutput struct {
		Target     string                  `json:"target"`
		Procedures []gateway.ProcedureInfo `json:"procedures"`
	}
)

func ptr[T any](v T) *T { return &v }

// addTool registers a tool whose handler returns a typed output and a
// short text. The schemas come from In and Out. Arguments are validated
// against the input schema and decoded strictly; errors become isError
// results carrying the correlation id. The output is handed to the SDK as
// it is, to be marshalled once on the way out: DAP builds it from its own
// types, so validating it against its own schema on every call (what the
// typed mcp.AddTool does) would only cost time on the hot path.
func addTool[In, Out any](s *mcp.Server, h *handlers, t *mcp.Tool, run func(ctx context.Context, in In) (Out, string, error)) {
	in, err := jsonschema.For[In](nil)
	if err != nil {
		panic(fmt.Sprintf("mcpserver: input schema of %s: %v", t.Name, err))
	}
	resolved, err := in.Resolve(nil)
	if err != nil {
		panic(fmt.Sprintf("mcpserver: resolve input schema of %s: %v", t.Name, err))
	}
	out, err := jsonschema.ForType(deref(reflect.TypeFor[Out]()), nil)
	if err != nil {
		panic(fmt.Sprintf("mcpserver: output schema of %s: %v", t.Name, err))
	}
	t.InputSchema, t.OutputSchema = in, out
	s.AddTool(t, func(ctx context.Context, req *mcp.CallToolRequest) (*mcp.CallToolResult, error) {
		ctx, id := h.begin(ctx, req)
		var args In
		if err := decodeArgs(req.Params.Arguments, resolved, &args); err != nil {
			// The validator quotes offending values; a huge one must not
			// come back whole.
			return errorResult(id, fmt.Errorf("%w: arguments of %s: %s", engine.ErrInvalid, t.Name, clip(err.Error(), maxArgErrBytes))), nil
		}
		res, text, err := run(ctx, args)
		if err != nil {
			return errorResult(id, err), nil
		}
		return &mcp.CallToolResult{Content: []mcp.Content{&mcp.TextContent{Text: text}}, StructuredContent: res, Meta: meta(id)}, nil
	})
}

func deref(t reflect.Type) reflect.Type {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	return t
}

// maxArgBytes bounds one call's arguments before any decoding.
const maxArgBytes = 2 << 20

// maxArgErrBytes bounds the message about invalid arguments.
const maxArgErrBytes = 1000

// decodeArgs validates raw against the schema, then decodes it into dst,
// refusing unknown fields.
func decodeArgs(raw json.RawMessage, schema *jsonschema.Resolved, dst any) error {
	if len(raw) == 0 || string(raw) == "null" {
		raw = json.RawMessage("{}")
	}
	if len(raw) > maxArgBytes {
		return fmt.Errorf("%d bytes of arguments, over the %d-byte limit", len(raw), maxArgBytes)
	}
	var generic map[string]any
	if err := json.Unmarshal(raw, &generic); err != nil {
		return fmt.Errorf("want a JSON object: %v", err)
	}
	if err := schema.Validate(generic); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(dst)
}

func (h *handlers) addTools(s *mcp.Server) {
	readOnly := &mcp.ToolAnnotations{ReadOnlyHint: true, IdempotentHint: true, OpenWorldHint: ptr(false)}

	addTool(s, h, &mcp.Tool{Name: "list_targets", Annotations: readOnly,
		Description: "List the databases (targets) DAP serves: name, engine (SQL dialect), access mode (read-only, read-write, admin), limits and whether each is reachable now. Call this first."},
		func(ctx context.Context, _ noInput) (targetsOutput, string, error) {
			ts, err := h.gw.ListTargets(ctx)
			if err != nil {
				return targetsOutput{}, "", err
			}
			return targetsOutput{Targets: ts}, renderTargets(ts), nil
		})

	addTool(s, h, &mcp.Tool{Name: "list_schemas", Annotations: readOnly,
		Description: "List the user schemas of a target (PostgreSQL schemas, MySQL databases, SQLite attached databases)."},
		func(ctx context.Context, in targetInput) (schemasOutput, string, error) {
			out, err := h.gw.ListSchemas(ctx, in.Target)
			if err != nil {
				return schemasOutput{}, "", err
			}
			return schemasOutput{Target: in.Target, Schemas: out}, renderSchemas(in.Target, out), nil
		})

	addTool(s, h, &mcp.Tool{Name: "list_tables", Annotations: readOnly,
		Description: "List tables and views of a target with their kind, estimated row counts (from statistics, not exact) and comments. Filter by schema and by a name pattern."},
		func(ctx context.Context, in listTablesInput) (tablesOutput, string, error) {
			out, err := h.gw.ListTables(ctx, in.Target, in.Schema, in.Pattern)
			if err != nil {
				return tablesOutput{}, "", err
			}
			return tablesOutput{Target: in.Target, Tables: out}, renderTables(in.Target, out), nil
		})

	addTool(s, h, &mcp.Tool{Name: "describe_table", Annotations: readOnly,
		Description: "Describe one table or view: columns (type, nullability, default, comment), primary key, indexes, foreign keys to other tables and from other tables, and a view's definition."},
		func(ctx context.Context, in describeTableInput) (*engine.TableDetail, string, error) {
			out, err := h.gw.DescribeTable(ctx, in.Target, in.Table)
			if err != nil {
				return nil, "", err
			}
			return out, renderTable(out), nil
		})

	addTool(s, h, &mcp.Tool{Name: "execute_sql",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(true), OpenWorldHint: ptr(false), Title: "Execute one SQL statement"},
		Description: "Execute exactly one SQL statement on a target and return its rows. The statement is parsed and classified (read, write, ddl, admin) first and runs only if the target's access mode allows it; reads run in a read-only transaction. Results are capped in rows and bytes and the statement has a timeout: when truncated is true, filter or aggregate instead. Transaction control is refused."},
		func(ctx context.Context, in executeSQLInput) (*gateway.ExecResult, string, error) {
			out, err := h.gw.ExecuteSQL(ctx, in.Target, in.SQL, in.MaxRows)
			if err != nil {
				return nil, "", err
			}
			return out, renderExec(out), nil
		})

	addTool(s, h, &mcp.Tool{Name: "explain_query", Annotations: &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: ptr(false)},
		Description: "Show the execution plan of one statement as the engine gives it, with a summary: estimated cost and rows, and full scans of large tables. With analyze (reads only) the statement is executed to report actual time."},
		func(ctx context.Context, in explainInput) (*gateway.ExplainResult, string, error) {
			out, err := h.gw.Explain(ctx, in.Target, in.SQL, in.Analyze)
			if err != nil {
				return nil, "", err
			}
			return out, renderPlan(out), nil
		})

	addTool(s, h, &mcp.Tool{Name: "list_procedures", Annotations: readOnly,
		Description: "List the stored procedures and functions of a target that execute_procedure may call (the target's allow-list), with their parameter signatures."},
		func(ctx context.Context, in targetInput) (proceduresOutput, string, error) {
			out, err := h.gw.ListProcedures(ctx, in.Target)
			if err != nil {
				return proceduresOutput{}, "", err
			}
			return proceduresOutput{Target: in.Target, Procedures: out}, renderProcedures(in.Target, out), nil
		})

	addTool(s, h, &mcp.Tool{Name: "execute_procedure",
		Annotations: &mcp.ToolAnnotations{DestructiveHint: ptr(true), OpenWorldHint: ptr(false)},
		Description: "Call an allow-listed stored procedure or function with arguments. Arguments are checked against the catalog signature (names, count, types) and bound as parameters. On a read-only target the call runs in a read-only transaction."},
		func(ctx context.Context, in procedureInput) (*gateway.ExecResult, string, error) {
			out, err := h.gw.ExecuteProcedure(ctx, in.Target, in.Procedure, in.Args)
			if err != nil {
				return nil, "", err
			}
			return out, renderExec(out), nil
		})
}
