package m2mgrpc_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/m2mauth/m2mauth/adapters/m2mgrpc"
	"github.com/m2mauth/m2mauth/clerktest"
	"github.com/m2mauth/m2mauth/m2mclient"
)

// TestPerRPCCredentials: a client with PerRPCCredentials on the caller's
// TokenSource passes the receiver's interceptor; its token is created once
// and reused.
func TestPerRPCCredentials(t *testing.T) {
	w := newWorld(t)
	ts, err := m2mclient.NewTokenSource(w.caller.SecretKey, m2mclient.WithBaseURL(w.clerk.URL), m2mclient.WithClock(w.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	creds, err := m2mgrpc.NewPerRPCCredentials(ts, m2mgrpc.AllowInsecureLoopback())
	if err != nil {
		t.Fatal(err)
	}
	if creds.RequireTransportSecurity() {
		t.Error("AllowInsecureLoopback: got RequireTransportSecurity true, want false")
	}
	conn, es := serve(t, newInterceptor(t, w.auth(t, w.clerk.SecretKey)), grpc.WithPerRPCCredentials(creds))
	for range 3 {
		who, err := whoami(t.Context(), conn)
		if err != nil || who != w.caller.ID {
			t.Fatalf("got (%q, %v), want %s", who, err, w.caller.ID)
		}
	}
	if got, err := watch(t.Context(), conn); err != nil || len(got) != 2 || got[0] != w.caller.ID {
		t.Errorf("stream: got (%q, %v), want the caller twice", got, err)
	}
	if tok, ok, _ := es.last(); !ok || tok.Subject != w.caller.ID {
		t.Errorf("got token (%v, %v), want the caller's", tok, ok)
	}
	if n := w.clerk.Calls(clerktest.EndpointCreate); n != 1 {
		t.Errorf("got %d create calls, want 1", n)
	}
	if n := w.clerk.Calls(clerktest.EndpointVerify); n != 1 {
		t.Errorf("got %d verify calls, want 1 (then cached)", n)
	}
}

// TestPerRPCCredentialsTransportSecurity: by default the token never goes
// over a connection without transport security; with AllowInsecureLoopback
// it goes to a loopback address only. Refused RPCs create no token.
func TestPerRPCCredentialsTransportSecurity(t *testing.T) {
	w := newWorld(t)
	ts, err := m2mclient.NewTokenSource(w.caller.SecretKey, m2mclient.WithBaseURL(w.clerk.URL), m2mclient.WithClock(w.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	secure, err := m2mgrpc.NewPerRPCCredentials(ts)
	if err != nil {
		t.Fatal(err)
	}
	if !secure.RequireTransportSecurity() {
		t.Error("default: got RequireTransportSecurity false, want true")
	}
	loopback, err := m2mgrpc.NewPerRPCCredentials(ts, m2mgrpc.AllowInsecureLoopback())
	if err != nil {
		t.Fatal(err)
	}
	in := newInterceptor(t, w.auth(t, w.clerk.SecretKey))
	conn, _ := serve(t, in)
	addr := conn.Target()

	// A client that dials the loopback server under another name, as if it
	// were a remote host.
	remote := func(creds *m2mgrpc.PerRPCCredentials) *grpc.ClientConn {
		return dial(t, "passthrough:///orders.example.com:443", grpc.WithPerRPCCredentials(creds),
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
			}))
	}
	// gRPC refuses a connection without transport security for credentials
	// that require it.
	if _, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()), grpc.WithPerRPCCredentials(secure)); err == nil ||
		!strings.Contains(err.Error(), "require transport level security") {
		t.Errorf("default credentials without transport security: got %v, want gRPC's refusal", err)
	}
	for _, tc := range []struct {
		name string
		conn *grpc.ClientConn
		msg  string
	}{
		{"loopback allowed, remote host", remote(loopback), "not loopback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := whoami(t.Context(), tc.conn)
			if st := status.Convert(err); st.Code() != codes.Unauthenticated || !strings.Contains(st.Message(), tc.msg) {
				t.Errorf("got %v %q, want Unauthenticated %q", st.Code(), st.Message(), tc.msg)
			}
		})
	}
	if n := w.clerk.Calls(clerktest.EndpointCreate); n != 0 {
		t.Errorf("got %d create calls, want 0", n)
	}
	if _, err := m2mgrpc.NewPerRPCCredentials(nil); err == nil {
		t.Error("NewPerRPCCredentials(nil) accepted")
	}
}

// TestPerRPCCredentialsOverTLS: over TLS the token goes to any host, with
// the default credentials and with AllowInsecureLoopback alike.
func TestPerRPCCredentialsOverTLS(t *testing.T) {
	const host = "orders.example.com"
	w := newWorld(t)
	ts, err := m2mclient.NewTokenSource(w.caller.SecretKey, m2mclient.WithBaseURL(w.clerk.URL), m2mclient.WithClock(w.clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	cert, pool := selfSigned(t, host)
	addr, _ := listen(t, newInterceptor(t, w.auth(t, w.clerk.SecretKey)),
		grpc.Creds(credentials.NewTLS(&tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS13})))
	for _, opts := range map[string][]m2mgrpc.CredentialsOption{"default": nil, "loopback allowed": {m2mgrpc.AllowInsecureLoopback()}} {
		creds, err := m2mgrpc.NewPerRPCCredentials(ts, opts...)
		if err != nil {
			t.Fatal(err)
		}
		conn, err := grpc.NewClient("passthrough:///"+host+":443",
			grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS13})),
			grpc.WithPerRPCCredentials(creds),
			grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) {
				return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
			}))
		if err != nil {
			t.Fatal(err)
		}
		who, err := whoami(t.Context(), conn)
		_ = conn.Close()
		if err != nil || who != w.caller.ID {
			t.Errorf("got (%q, %v), want %s", who, err, w.caller.ID)
		}
	}
}

// selfSigned returns a self-signed certificate for host and a pool that
// trusts it.
func selfSigned(t *testing.T, host string) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: host}, DNSNames: []string{host},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}
