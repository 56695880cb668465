package demo

import (
	"context"
	"encoding/json"
	"time"

	"github.com/m2mauth/m2mauth/middleware"
	"github.com/m2mauth/m2mauth/verifier"
)

// WhoAmI is the JSON answer of GET /api/whoami.
type WhoAmI struct {
	Subject   string          `json:"subject"`
	Scopes    []string        `json:"scopes"`
	Claims    json.RawMessage `json:"claims"`
	TokenID   string          `json:"token_id"`
	Format    string          `json:"format"`
	ExpiresAt *time.Time      `json:"expires_at"` // null: never expires
}

// NewWhoAmI describes a verified token (never its secret value).
func NewWhoAmI(t *verifier.Token) WhoAmI {
	w := WhoAmI{Subject: t.Subject, Scopes: t.Scopes, Claims: t.Claims, TokenID: t.ID, Format: string(t.Format)}
	if w.Scopes == nil {
		w.Scopes = []string{}
	}
	if len(w.Claims) == 0 {
		w.Claims = json.RawMessage("null")
	}
	if !t.ExpiresAt.IsZero() {
		e := t.ExpiresAt.UTC()
		w.ExpiresAt = &e
	}
	return w
}

// Reports is the JSON answer of GET /api/reports.
type Reports struct {
	For     string   `json:"for"`
	Reports []string `json:"reports"`
}

// NewReports is the (fixed) answer of the reports route for a reporter.
func NewReports(t *verifier.Token) Reports {
	return Reports{For: t.Subject, Reports: []string{"2026-q3-usage", "2026-q3-billing"}}
}

// ReportRole is the claim value the reports route requires: {"role":"reporter"}.
const ReportRole = "reporter"

// RequireRole is a middleware.Check refusing tokens whose "role" claim is not role.
func RequireRole(role string) middleware.Check {
	return func(_ context.Context, t *verifier.Token) error {
		var c struct {
			Role string `json:"role"`
		}
		if err := t.DecodeClaims(&c); err != nil || c.Role != role {
			return middleware.Forbidden("claim role=" + role + " required")
		}
		return nil
	}
}

// Health is the JSON answer of GET /healthz.
var Health = map[string]string{"status": "ok"}
