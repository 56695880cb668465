package middleware_test

import (
	"errors"
	"go/ast"
	"go/parser"
	"go/token"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// headerASCII fails t unless every header value in h is printable ASCII.
func headerASCII(t *testing.T, h map[string][]string) {
	t.Helper()
	for name, values := range h {
		for _, v := range values {
			for i := 0; i < len(v); i++ {
				if v[i] < 0x20 || v[i] > 0x7e {
					t.Errorf("header %s: got %q with byte %#x at %d, want printable ASCII", name, v, v[i], i)
					break
				}
			}
		}
	}
}

// description returns the error_description of a challenge, or "" when it
// has none.
func description(t *testing.T, challenge string) string {
	t.Helper()
	const key = `error_description="`
	i := strings.Index(challenge, key)
	if i < 0 {
		return ""
	}
	rest := challenge[i+len(key):]
	if !strings.HasSuffix(rest, `"`) || strings.Contains(rest[:len(rest)-1], `"`) {
		t.Fatalf("challenge %q: want error_description as its last, well-quoted parameter", challenge)
	}
	return rest[:len(rest)-1]
}

// writeAndCheck writes the default response for err and checks what every
// reason must satisfy: ASCII headers, a quoted-string-safe error_description
// equal to the body's, and returns that description.
func writeAndCheck(t *testing.T, a *middleware.Authenticator, err error) (desc string, status int) {
	t.Helper()
	resp := a.Response(err)
	w := httptest.NewRecorder()
	resp.Write(w)
	headerASCII(t, w.Header())
	body := resp.Body
	if challenge := w.Header().Get("WWW-Authenticate"); strings.Contains(challenge, "error=") {
		d := description(t, challenge)
		if d != body.Description {
			t.Errorf("got header description %q and body description %q, want the same text", d, body.Description)
		}
		for i := 0; i < len(d); i++ {
			if c := d[i]; c == '"' || c == '\\' {
				t.Errorf("description %q has %q at %d", d, c, i)
			}
		}
	}
	if body.Description == "" || len(body.Description) > 200 {
		t.Errorf("got body description %q (%d bytes), want 1–200 bytes", body.Description, len(body.Description))
	}
	return body.Description, w.Code
}

func TestDescriptionsAreASCII(t *testing.T) {
	a, err := middleware.New(&fixedVerifier{scoped: true})
	if err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("abcdefghi ", 30)
	for _, tc := range []struct {
		name   string
		reason string
		want   string
	}{
		{"plain", "token expired", "token expired"},
		{"the verifier's shape reason", "not an M2M token (neither mt_… nor a JWT)", "not an M2M token (neither mt_... nor a JWT)"},
		{"double quotes", `bad "x"`, "bad 'x'"},
		{"typographic quotes", "the ‘scope’ “claim”", "the 'scope' 'claim'"},
		{"dashes and arrow", "a–b — c → d", "a-b - c -> d"},
		{"backslash", `C:\path`, "C:/path"},
		{"newline and tab", "line one\nline\ttwo\r", "line one line two"},
		{"control and DEL", "a\x00b\x7fc", "a b c"},
		{"non-breaking space", "a\u00a0b", "a b"},
		{"other letters, one ? each", "café ĳ 日本", "caf? ? ??"},
		{"emoji", "ok 👍", "ok ?"},
		{"invalid UTF-8", "a\xffb\xc3", "a?b?"},
		{"too long", long, long[:197] + "..."},
		{"too long, multi-byte at the cut", strings.Repeat("…", 100), strings.Repeat(".", 197) + "..."},
		{"only spaces: the default", " \n\t ", "invalid token"},
		{"empty: the default", "", "invalid token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, status := writeAndCheck(t, a, &verifier.InvalidTokenError{Reason: tc.reason})
			if status != 401 {
				t.Errorf("got status %d, want 401", status)
			}
			if got != tc.want {
				t.Errorf("got description %q, want %q", got, tc.want)
			}
			fgot, _ := writeAndCheck(t, a, middleware.Forbidden(tc.reason))
			if tc.reason != "" && strings.TrimSpace(tc.reason) != "" && fgot != tc.want {
				t.Errorf("403: got description %q, want %q", fgot, tc.want)
			}
			mgot, _ := writeAndCheck(t, a, &middleware.MissingTokenError{Reason: tc.reason})
			if tc.reason != "" && strings.TrimSpace(tc.reason) != "" && mgot != tc.want {
				t.Errorf("401 missing: got description %q, want %q", mgot, tc.want)
			}
		})
	}
}

// TestEveryReasonIsASCII answers every fixed reason the verifier and the
// middleware can give (read from their sources, so that a new one is covered
// without editing this test), and every other error Response knows.
func TestEveryReasonIsASCII(t *testing.T) {
	a, err := middleware.New(&fixedVerifier{scoped: true})
	if err != nil {
		t.Fatal(err)
	}
	verifierReasons := reasonsIn(t, "../verifier", "InvalidTokenError")
	middlewareReasons := append(reasonsIn(t, ".", "ForbiddenError"), reasonsIn(t, ".", "MissingTokenError")...)
	if len(verifierReasons) < 10 || len(middlewareReasons) < 6 {
		t.Fatalf("found %d verifier and %d middleware reasons, want at least 10 and 6: is the source scan broken?",
			len(verifierReasons), len(middlewareReasons))
	}
	errs := map[string]error{
		"unavailable":   &verifier.UnavailableError{RetryAfter: 3 * time.Second},
		"misconfigured": verifier.ErrMisconfigured,
		"client gone":   middleware.ErrClientGone,
		"unknown":       errors.New("boom"),
	}
	for _, r := range verifierReasons {
		errs["verifier: "+r] = &verifier.InvalidTokenError{Reason: r}
	}
	for _, r := range middlewareReasons {
		errs["middleware 403: "+r] = middleware.Forbidden(r)
		errs["middleware 401: "+r] = &middleware.MissingTokenError{Reason: r}
	}
	for name, err := range errs {
		t.Run(name, func(t *testing.T) {
			got, _ := writeAndCheck(t, a, err)
			if strings.Contains(got, "?") && !strings.Contains(name, "?") {
				t.Errorf("got description %q, want no '?' for a reason without one", got)
			}
		})
	}
}

// reasonsIn returns the string values given to the Reason field of the
// composite literals of typeName in the non-test Go files of dir: string
// literals, and package-level constants or variables initialised with one.
// Other values (computed at run time) are logged: Response handles them the
// same way, but this test cannot list them.
func reasonsIn(t *testing.T, dir, typeName string) []string {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	var parsed []*ast.File
	named := map[string]string{} // package-level name → string literal value
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		src, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		parsed = append(parsed, f)
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || (gd.Tok != token.CONST && gd.Tok != token.VAR) {
				continue
			}
			for _, spec := range gd.Specs {
				vs := spec.(*ast.ValueSpec)
				for i, id := range vs.Names {
					if i < len(vs.Values) {
						if s, ok := stringLit(vs.Values[i]); ok {
							named[id.Name] = s
						}
					}
				}
			}
		}
	}
	var out []string
	for _, f := range parsed {
		ast.Inspect(f, func(n ast.Node) bool {
			cl, ok := n.(*ast.CompositeLit)
			if !ok || !isType(cl.Type, typeName) {
				return true
			}
			for _, elt := range cl.Elts {
				kv, ok := elt.(*ast.KeyValueExpr)
				if !ok || !isIdent(kv.Key, "Reason") {
					continue
				}
				if s, ok := stringLit(kv.Value); ok {
					out = append(out, s)
				} else if id, ok := kv.Value.(*ast.Ident); ok && named[id.Name] != "" {
					out = append(out, named[id.Name])
				} else {
					t.Logf("%s: a %s reason computed at run time", fset.Position(kv.Pos()), typeName)
				}
			}
			return true
		})
	}
	return out
}

func stringLit(e ast.Expr) (string, bool) {
	bl, ok := e.(*ast.BasicLit)
	if !ok || bl.Kind != token.STRING {
		return "", false
	}
	s, err := strconv.Unquote(bl.Value)
	return s, err == nil
}

func isIdent(e ast.Expr, name string) bool {
	id, ok := e.(*ast.Ident)
	return ok && id.Name == name
}

func isType(e ast.Expr, name string) bool {
	if sel, ok := e.(*ast.SelectorExpr); ok {
		return sel.Sel.Name == name
	}
	return isIdent(e, name)
}
