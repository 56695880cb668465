package m2mgrpc_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/m2mauth/m2mauth/adapters/internal/adaptertest"
	"github.com/m2mauth/m2mauth/adapters/m2mhttp"
	"github.com/m2mauth/m2mauth/internal/wire"
	"github.com/m2mauth/m2mauth/middleware"
)

// logBuffer is an io.Writer for a slog handler that the server's goroutines
// write while the test reads it.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// take returns the lines written since the last take.
func (b *logBuffer) take() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := strings.TrimSuffix(b.buf.String(), "\n")
	b.buf.Reset()
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}

// TestMalformedMetadataIsLogged: an RPC refused for malformed authorization
// metadata is logged through middleware.WithLogger exactly as net/http logs
// the same Authorization header: one line, the same attributes (the time
// aside), never the token. Both over real servers on loopback, so the
// source is the same too.
func TestMalformedMetadataIsLogged(t *testing.T) {
	var logs logBuffer
	a := adaptertest.New(t, middleware.WithAudience(adaptertest.Audience),
		middleware.WithLogger(slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))))
	conn, es := serve(t, newInterceptor(t, a))
	httpSrv := httptest.NewServer(m2mhttp.Middleware(a)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {
		t.Error("net/http: next called")
	})))
	defer httpSrv.Close()

	const secret = "mt_0123456789SECRETabcdefghijklmn" // what must never be logged
	for _, tc := range []struct {
		name   string
		auth   []string
		reason string
	}{
		{"more than one value", []string{"Bearer " + secret, "Bearer " + secret}, "more than one Authorization header"},
		{"too large", []string{"Bearer " + secret + strings.Repeat("x", wire.MaxAuthorizationLen)}, "Authorization header too large"},
		{"empty token", []string{"Bearer "}, "empty bearer token"},
		{"not a token68", []string{"Bearer " + secret + ",x"}, "malformed bearer token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs.take()
			_, err := whoami(withAuth(t.Context(), tc.auth...), conn)
			if st := status.Convert(err); st.Code() != codes.Unauthenticated || st.Message() != "missing_token: "+tc.reason {
				t.Fatalf("gRPC: got %v %q, want Unauthenticated %q", st.Code(), st.Message(), "missing_token: "+tc.reason)
			}
			grpcLines := logs.take()

			req, err := http.NewRequest(http.MethodGet, httpSrv.URL+"/api", nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, v := range tc.auth {
				req.Header.Add("Authorization", v)
			}
			res, err := httpSrv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("net/http: got %d, want 401", res.StatusCode)
			}
			httpLines := logs.take()

			if len(grpcLines) != 1 || len(httpLines) != 1 {
				t.Fatalf("got %d gRPC and %d net/http log lines, want one each:\n%s\n%s", len(grpcLines), len(httpLines),
					strings.Join(grpcLines, "\n"), strings.Join(httpLines, "\n"))
			}
			if strings.Contains(grpcLines[0], secret) {
				t.Errorf("got log line %s: it holds the token", grpcLines[0])
			}
			got, want := attrs(t, grpcLines[0]), attrs(t, httpLines[0])
			if got != want {
				t.Errorf("gRPC logged %s\nwant what net/http logged: %s", got, want)
			}
			if !strings.Contains(got, `"reason":"`+tc.reason+`"`) || !strings.Contains(got, `"status":401`) {
				t.Errorf("got log line %s, want status 401 and reason %q", got, tc.reason)
			}
		})
	}
	if _, _, calls := es.last(); calls != 0 {
		t.Errorf("got %d handler calls, want 0", calls)
	}
}

// attrs returns a JSON log line without its time, its keys sorted.
func attrs(t *testing.T, line string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(line), &m); err != nil {
		t.Fatalf("log line %q: %v", line, err)
	}
	delete(m, slog.TimeKey)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
