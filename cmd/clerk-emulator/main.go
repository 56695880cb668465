package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/m2mauth/m2mauth/clerkapi"
	"github.com/m2mauth/m2mauth/clerktest"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0) // -h: usage was printed
	case err != nil:
		fmt.Fprintln(os.Stderr, "clerk-emulator:", err)
		os.Exit(2)
	}
}

// startup is what the emulator prints at start with -json.
type startup struct {
	BaseURL        string `json:"base_url"`
	SecretKey      string `json:"secret_key"`
	PublishableKey string `json:"publishable_key"`
	// AuthorizationServer is the origin the publishable key encodes, where
	// the OAuth authorization server is (its RFC 8414 issuer).
	AuthorizationServer string `json:"authorization_server"`
	// OAuthUserID is the user on whose behalf /oauth/authorize consents.
	OAuthUserID string        `json:"oauth_user_id"`
	Machines    []machineInfo `json:"machines"`
}

type machineInfo struct {
	ID             string   `json:"id"`
	Name           string   `json:"name"`
	SecretKey      string   `json:"secret_key"`
	ScopedMachines []string `json:"scoped_machines"`
}

// run serves the emulator until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("clerk-emulator", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8787", "address to listen on")
	asJSON := fs.Bool("json", false, "print the start-up information as one JSON object on the first line")
	oauthUser := fs.String("oauth-user", clerktest.DefaultOAuthUserID, "the user (user_…) who consents at /oauth/authorize")
	oauthFormat := fs.String("oauth-token-format", string(clerkapi.FormatJWT), "format of the access tokens /oauth/token issues: jwt or opaque")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %s", strings.Join(fs.Args(), " "))
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv, err := clerktest.Start(l, clerktest.WithOAuthUser(*oauthUser),
		clerktest.WithOAuthAccessTokenFormat(clerkapi.TokenFormat(*oauthFormat)))
	if err != nil {
		return err
	}
	defer srv.Close()

	receiver := srv.CreateMachine("receiver")
	caller := srv.CreateMachine("caller", receiver.ID)
	loner := srv.CreateMachine("loner")
	info := startup{BaseURL: srv.URL, SecretKey: srv.SecretKey, PublishableKey: srv.PublishableKey,
		AuthorizationServer: strings.TrimSuffix(srv.URL, "/v1"), OAuthUserID: *oauthUser}
	for _, m := range []*clerktest.Machine{caller, receiver, loner} {
		info.Machines = append(info.Machines, infoOf(m))
	}
	if *asJSON {
		b, err := json.Marshal(info)
		if err != nil {
			return err
		}
		if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
			return err
		}
	} else {
		intro, lines := tryIt(info.BaseURL, info.SecretKey, infoOf(caller), infoOf(receiver))
		printText(stdout, info, *oauthFormat, intro, lines)
	}
	<-ctx.Done()
	fmt.Fprintln(stderr, "clerk-emulator: shutting down")
	return nil
}

func infoOf(m *clerktest.Machine) machineInfo {
	return machineInfo{ID: m.ID, Name: m.Name, SecretKey: m.SecretKey, ScopedMachines: m.ScopedMachines}
}

// printText prints info for people, then what tryIt returns.
func printText(w io.Writer, info startup, oauthFormat, intro string, lines []string) {
	fmt.Fprintf(w, "Clerk emulator listening\n  base URL:        %s\n  secret key:      %s\n  publishable key: %s\n",
		info.BaseURL, info.SecretKey, info.PublishableKey)
	fmt.Fprintf(w, "\nOAuth authorization server (Clerk's Frontend API) at %s:\n", info.AuthorizationServer)
	fmt.Fprintf(w, "  metadata:        %s/.well-known/oauth-authorization-server\n", info.AuthorizationServer)
	fmt.Fprintf(w, "  consenting user: %s (every authorization is granted at once)\n", info.OAuthUserID)
	fmt.Fprintf(w, "  access tokens:   %s\n\nMachines:\n", oauthFormat)
	for _, m := range info.Machines {
		scopes := "(none)"
		if len(m.ScopedMachines) > 0 {
			scopes = strings.Join(m.ScopedMachines, ", ")
		}
		fmt.Fprintf(w, "  %s\n    id:         %s\n    secret key: %s\n    may call:   %s\n", m.Name, m.ID, m.SecretKey, scopes)
	}
	fmt.Fprintf(w, "\n%s\n", intro)
	for _, l := range lines {
		fmt.Fprintf(w, "  %s\n", l)
	}
	fmt.Fprint(w, "\nStop with Ctrl-C.\n")
}

// tryIt returns shell lines that show how to use the emulator at baseURL,
// and a sentence that introduces them: caller mints a token into $TOKEN with
// its machine secret key, the instance's secretKey verifies it, then adds a
// machine that may call receiver. They need curl, grep and cut (no jq), end
// what curl prints with a newline, and hold no comment, which an interactive
// zsh would run as a command. The tests run each line, parsed and through sh.
func tryIt(baseURL, secretKey string, caller, receiver machineInfo) (intro string, lines []string) {
	post := func(path, key, body string) string {
		return "curl -sS -w '\\n' -X POST " + shellQuote(baseURL+path) +
			" -H " + shellQuote("Authorization: Bearer "+key) +
			" -H 'Content-Type: application/json' -d " + body
	}
	machine, _ := json.Marshal(struct {
		Name           string   `json:"name"`
		ScopedMachines []string `json:"scoped_machines"`
	}{"worker", []string{receiver.ID}})
	intro = fmt.Sprintf("Try it in sh, bash or zsh (with curl): %s mints a token into $TOKEN, the secret key\n"+
		"verifies it, then adds a machine \"worker\" that may call %s:", caller.Name, receiver.Name)
	return intro, []string{
		"TOKEN=$(" + post("/m2m_tokens", caller.SecretKey, "'{}'") + ` | grep -o '"token":"[^"]*"' | cut -d'"' -f4)`,
		post("/m2m_tokens/verify", secretKey, `"{\"token\":\"$TOKEN\"}"`),
		post("/machines", secretKey, shellQuote(string(machine))),
	}
}

// shellQuote quotes s as one word of a POSIX shell, unless it needs none.
func shellQuote(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_%+:,./-") == "" {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
