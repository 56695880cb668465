package clerktest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

// BenchmarkVerify measures the emulator's verify handler alone (no network),
// so load tests elsewhere know the emulator is not their bottleneck.
func BenchmarkVerify(b *testing.B) {
	srv := clerktest.NewServer()
	defer srv.Close()
	recv := srv.CreateMachine("receiver")
	caller := srv.CreateMachine("caller", recv.ID)
	for range 1000 { // a realistic number of stored tokens
		srv.CreateToken(caller.ID, clerkapi.CreateParams{})
	}
	tok, err := srv.CreateToken(caller.ID, clerkapi.CreateParams{})
	if err != nil {
		b.Fatal(err)
	}
	body := `{"token":"` + tok.Token + `"}`
	h := srv.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/v1/m2m_tokens/verify", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+recv.SecretKey)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusOK {
				b.Fatalf("got %d, want 200", rec.Code)
			}
		}
	})
}

// BenchmarkCreate measures minting opaque tokens through the handler.
func BenchmarkCreate(b *testing.B) {
	srv := clerktest.NewServer()
	defer srv.Close()
	caller := srv.CreateMachine("caller", srv.CreateMachine("receiver").ID)
	h := srv.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req := httptest.NewRequest("POST", "/v1/m2m_tokens", strings.NewReader(`{"claims":{"job":"bench"}}`))
			req.Header.Set("Authorization", "Bearer "+caller.SecretKey)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusCreated {
				b.Fatalf("got %d, want 201", rec.Code)
			}
		}
	})
}
