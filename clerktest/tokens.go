package clerktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// wire returns t as Clerk's token object at time now; the secret value only
// when withValue.
func (t *token) wire(now time.Time, withValue bool) *clerkapi.M2MToken {
	w := &clerkapi.M2MToken{
		Object:     clerkapi.ObjectM2MToken,
		ID:         t.id,
		Subject:    t.subject,
		Claims:     json.RawMessage("null"),
		Scopes:     append([]string{}, t.scopes...),
		Revoked:    t.revoked,
		Expired:    t.isExpired(now),
		Expiration: clerkapi.At(t.expiration),
		LastUsedAt: clerkapi.At(t.lastUsed),
		CreatedAt:  clerkapi.At(t.created),
		UpdatedAt:  clerkapi.At(t.updated),
	}
	if t.claims != nil {
		w.Claims = append(json.RawMessage(nil), t.claims...)
	}
	if t.reason != nil {
		r := *t.reason
		w.RevocationReason = &r
	}
	if withValue {
		w.Token = t.value
	}
	return w
}

// createParams are the decoded parameters of a POST /m2m_tokens body.
type createParams struct {
	jwt       bool     // token_format "jwt"; opaque otherwise
	secs      *float64 // seconds_until_expiration; nil: the machine's default
	minTTL    *float64 // min_remaining_ttl_seconds; nil: always mint
	claims    json.RawMessage
	claimsKey string // canonical claims, for reuse
}

// fields lists the body's parameters, decoded into p in the order they are
// checked.
func (p *createParams) fields() []field {
	var format *string
	return []field{
		stringField("token_format", false, &format).then(func() *apiError {
			switch clerkapi.TokenFormat(*format) {
			case clerkapi.FormatOpaque:
			case clerkapi.FormatJWT:
				p.jwt = true
			default:
				return errParamValue("token_format", "token_format must be one of: opaque, jwt.")
			}
			return nil
		}),
		numberField("seconds_until_expiration", true, false, &p.secs).then(func() *apiError {
			if p.secs != nil && (*p.secs <= 0 || *p.secs > maxTokenTTL) {
				return errParamValue("seconds_until_expiration",
					fmt.Sprintf("seconds_until_expiration must be greater than 0 and at most %d.", maxTokenTTL))
			}
			return nil
		}),
		numberField("min_remaining_ttl_seconds", false, true, &p.minTTL),
		nonNullField("claims", func(raw json.RawMessage) *apiError {
			k, err := canonicalJSON(raw)
			if err != nil {
				return errParamFormat("claims", "claims must be valid JSON.")
			}
			p.claims, p.claimsKey = json.RawMessage(k), k
			if p.jwt && !strings.HasPrefix(k, "{") {
				return errParamFormat("claims", "claims of a JWT-format token must be a JSON object.")
			}
			return nil
		}),
	}
}

// createToken mints (or, with min_remaining_ttl_seconds, reuses) a token for
// machine machineID as POST /m2m_tokens with parameters p.
func (s *Server) createToken(machineID string, p *createParams) (*clerkapi.M2MToken, *apiError) {
	now := s.now()
	s.mu.Lock()
	m := s.st.machines[machineID]
	if m == nil {
		s.mu.Unlock()
		return nil, errMachineKeyInvalid()
	}
	lifetime := time.Duration(m.ttl) * time.Second
	if p.secs != nil {
		lifetime = time.Duration(*p.secs * float64(time.Second))
	}
	if p.minTTL != nil && (*p.minTTL < 0 || time.Duration(*p.minTTL)*time.Second >= lifetime) {
		s.mu.Unlock()
		return nil, errParamValue("min_remaining_ttl_seconds",
			"min_remaining_ttl_seconds must be at least 0 and less than the token's lifetime.")
	}
	scopes := append([]string{}, m.scoped...)
	if p.jwt {
		s.mu.Unlock()
		return s.mintJWT(machineID, p.claims, scopes, now, now.Add(lifetime))
	}
	if p.minTTL != nil {
		if t := s.st.reusable(machineID, p.claimsKey, scopes, now, time.Duration(*p.minTTL)*time.Second); t != nil {
			w := t.wire(now, true)
			s.mu.Unlock()
			return w, nil
		}
	}
	t := &token{
		id:         newTokenID(),
		subject:    machineID,
		value:      newOpaqueToken(),
		claims:     p.claims,
		claimsKey:  p.claimsKey,
		scopes:     scopes,
		expiration: now.Add(lifetime),
		created:    now,
		updated:    now,
	}
	s.st.tokens[t.id] = t
	s.st.byValue[t.value] = t
	s.st.tokenList = append(s.st.tokenList, t)
	w := t.wire(now, true)
	s.mu.Unlock()
	return w, nil
}

// reusable finds the newest live opaque token of subject with the same claims
// and scopes and at least minLeft of life left.
func (st *state) reusable(subject, claimsKey string, scopes []string, now time.Time, minLeft time.Duration) *token {
	want := slices.Sorted(slices.Values(scopes))
	for i := len(st.tokenList) - 1; i >= 0; i-- {
		t := st.tokenList[i]
		if t.subject != subject || t.revoked || t.value == "" || t.isExpired(now) || t.claimsKey != claimsKey {
			continue
		}
		if !t.expiration.IsZero() && t.expiration.Sub(now) < minLeft {
			continue
		}
		if slices.Equal(slices.Sorted(slices.Values(t.scopes)), want) {
			return t
		}
	}
	return nil
}

func (s *Server) handleCreate(w http.ResponseWriter, r *http.Request, c caller) {
	if c.instance {
		writeError(w, errMachineKeyRequired())
		return
	}
	var p createParams
	if !readBody(w, r, true, p.fields()...) {
		return
	}
	t, e := s.createToken(c.machineID, &p)
	reply(w, http.StatusCreated, t, e)
}

// listQuery is the validated query of GET /m2m_tokens.
type listQuery struct {
	subject          string
	revoked, expired bool
	limit, offset    int
}

func parseListQuery(raw string) (listQuery, *apiError) {
	q := listQuery{limit: 10}
	vals, err := url.ParseQuery(raw)
	if err != nil {
		return q, errURLParam("query_parameter", "query", "malformed query string")
	}
	get := func(k string) (string, bool) { // the first value; present even when empty
		v, ok := vals[k]
		if !ok || len(v) == 0 {
			return "", false
		}
		return v[0], true
	}
	subj, ok := get("subject")
	if !ok {
		return q, errURLParam("query_parameter", "subject", "Missing required parameter")
	}
	if !clerkapi.MachineIDPattern.MatchString(subj) {
		return q, errURLParam("query_parameter", "subject", "Failed regex check")
	}
	q.subject = subj
	for _, b := range []struct {
		name string
		dst  *bool
	}{{"revoked", &q.revoked}, {"expired", &q.expired}} {
		v, ok := get(b.name)
		switch {
		case !ok:
		case v == "true":
			*b.dst = true
		case v == "false":
			*b.dst = false
		default:
			return q, errURLParam("query_parameter", b.name, "Expected a boolean")
		}
	}
	for _, n := range []struct {
		name     string
		dst      *int
		min, max float64
	}{{"limit", &q.limit, 1, 100}, {"offset", &q.offset, 0, math.MaxInt32}} {
		v, ok := get(n.name)
		if !ok {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || math.IsNaN(f) || f != math.Trunc(f) {
			return q, errURLParam("query_parameter", n.name, "Expected an integer")
		}
		if f < n.min || f > n.max {
			return q, errURLParam("query_parameter", n.name, fmt.Sprintf("Must be between %d and %d", int64(n.min), int64(n.max)))
		}
		*n.dst = int(f)
	}
	return q, nil
}

func (s *Server) handleList(w http.ResponseWriter, r *http.Request, c caller) {
	q, e := parseListQuery(r.URL.RawQuery)
	if e != nil {
		writeError(w, e)
		return
	}
	if !c.instance && q.subject != c.machineID {
		writeError(w, errForbiddenSubject())
		return
	}
	now := s.now()
	s.mu.Lock()
	if s.st.machines[q.subject] == nil {
		s.mu.Unlock()
		writeError(w, errNotFound("Machine"))
		return
	}
	page := []*clerkapi.M2MToken{}
	total := 0
	for i := len(s.st.tokenList) - 1; i >= 0; i-- {
		t := s.st.tokenList[i]
		if t.subject != q.subject || t.value == "" || (t.revoked && !q.revoked) || (t.isExpired(now) && !q.expired) {
			continue
		}
		if total >= q.offset && len(page) < q.limit {
			page = append(page, t.wire(now, false))
		}
		total++
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, clerkapi.M2MTokenList{M2MTokens: page, TotalCount: int64(total)})
}

// revokeToken revokes an opaque token; a machine caller only its own.
func (s *Server) revokeToken(c caller, id string, reason *string) (*clerkapi.M2MToken, *apiError) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.tokens[id]
	if t == nil || (!c.instance && t.subject != c.machineID) {
		return nil, errNotFound("M2M token")
	}
	if !t.revoked {
		t.revoked = true
		t.reason = reason
		t.updated = now
	}
	return t.wire(now, false), nil
}

func (s *Server) handleRevoke(w http.ResponseWriter, r *http.Request, c caller) {
	id := r.PathValue("m2m_token_id")
	if !clerkapi.TokenIDPattern.MatchString(id) {
		writeError(w, errURLParam("url_parameter", "m2m_token_id", "Failed regex check"))
		return
	}
	var reason *string
	if !readBody(w, r, true, stringField("revocation_reason", true, &reason)) {
		return
	}
	t, e := s.revokeToken(c, id, reason)
	reply(w, http.StatusOK, t, e)
}

// verifyToken answers POST /m2m_tokens/verify for value.
func (s *Server) verifyToken(c caller, value string) (*clerkapi.M2MToken, *apiError) {
	now := s.now()
	if strings.Count(value, ".") == 2 {
		return s.verifyJWT(c, value, now)
	}
	if !strings.HasPrefix(value, "mt_") {
		return nil, errTokenNotFound()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.st.byValue[value]
	if t == nil || t.revoked || t.isExpired(now) || (!c.instance && !slices.Contains(t.scopes, c.machineID)) {
		return nil, errTokenNotFound()
	}
	t.lastUsed = now
	return t.wire(now, false), nil
}

func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request, c caller) {
	var token, secret *string
	if !readBody(w, r, true, stringField("token", false, &token), stringField("secret", false, &secret)) {
		return
	}
	value, e := verifyValue("token", token, secret)
	if e != nil {
		writeError(w, e)
		return
	}
	t, e := s.verifyToken(c, value)
	reply(w, http.StatusOK, t, e)
}

// verifyValue picks the token's value from a verify body, which carries it as
// name ("token" for M2M tokens: the spec, the Go and JavaScript SDKs;
// "access_token" for OAuth access tokens) or as "secret" (Clerk's Python and
// C# SDKs for M2M tokens; the deprecated form for OAuth). Exactly one must be
// sent: neither is 400 form_param_missing for name, both 400
// form_param_value_invalid for secret.
func verifyValue(name string, value, secret *string) (string, *apiError) {
	switch {
	case value != nil && secret != nil:
		return "", errParamValue("secret", "Send the token's value as "+name+" or as secret, not both.")
	case value != nil:
		return *value, nil
	case secret != nil:
		return *secret, nil
	}
	return "", errParamMissing(name)
}

// CreateToken mints a token as POST /m2m_tokens by machine machineID would,
// without counting the call or applying faults. The result carries the secret
// value in Token. Invalid parameters give a *clerkapi.APIError with the status
// and errors the endpoint would answer.
func (s *Server) CreateToken(machineID string, p clerkapi.CreateParams) (*clerkapi.M2MToken, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, fmt.Errorf("clerktest: encoding create params: %w", err)
	}
	var cp createParams
	e := parseObject(b, true, cp.fields()...)
	if e == nil {
		var t *clerkapi.M2MToken
		if t, e = s.createToken(machineID, &cp); e == nil {
			return t, nil
		}
	}
	return nil, e.toClient()
}

// RevokeToken revokes the token with ID tokenID as the instance would; an
// empty reason is stored as null. An unknown ID is an error.
func (s *Server) RevokeToken(tokenID, reason string) error {
	var r *string
	if reason != "" {
		r = &reason
	}
	if _, e := s.revokeToken(caller{instance: true}, tokenID, r); e != nil {
		return errors.Join(errors.New("clerktest: revoke "+tokenID), e.toClient())
	}
	return nil
}
