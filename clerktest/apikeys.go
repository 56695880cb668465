package clerktest

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"time"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// defaultAPIKeyType is the type of an API key created without one.
const defaultAPIKeyType = "api_key"

var (
	// apiKeySubjectPattern is what the emulator takes as an API key's subject:
	// the spec's create pattern without scim_, which its answer's pattern
	// does not allow.
	apiKeySubjectPattern = regexp.MustCompile(`^(user|org|mch)_\w{27}$`)
	// apiKeyNamePattern is the spec's: no white space at either end.
	apiKeyNamePattern = regexp.MustCompile(`^(\S(.*\S)?)?$`)
	// userIDPattern is a user's ID (created_by, an OAuth token's subject).
	userIDPattern = regexp.MustCompile(`^user_\w{27}$`)
	// apiKeyPathIDPattern is the spec's pattern of the {apiKeyID} path parameter.
	apiKeyPathIDPattern = regexp.MustCompile(`^(ak|api_key)_[0-9A-Fa-f]{32}$`)
)

// apiKey is a stored API key.
type apiKey struct {
	id, typ, subject, name string
	description            *string
	claims                 json.RawMessage // compact JSON; nil when none
	scopes                 []string
	secret                 string
	revoked                bool
	reason                 *string
	expiration             time.Time // zero: never
	createdBy              *string
	lastUsed               time.Time
	created, updated       time.Time
}

func (k *apiKey) isExpired(now time.Time) bool {
	return !k.expiration.IsZero() && !now.Before(k.expiration)
}

// wire returns k as Clerk's api_key object at time now; the secret only when
// withSecret (the answer of POST /api_keys).
func (k *apiKey) wire(now time.Time, withSecret bool) *clerkapi.APIKey {
	w := &clerkapi.APIKey{
		Object:     clerkapi.ObjectAPIKey,
		ID:         k.id,
		Type:       k.typ,
		Subject:    k.subject,
		Name:       k.name,
		Claims:     json.RawMessage("null"),
		Scopes:     append([]string{}, k.scopes...),
		Revoked:    k.revoked,
		Expired:    k.isExpired(now),
		Expiration: clerkapi.At(k.expiration),
		LastUsedAt: clerkapi.At(k.lastUsed),
		CreatedAt:  clerkapi.At(k.created),
		UpdatedAt:  clerkapi.At(k.updated),
	}
	if k.description != nil {
		w.Description = clerkapi.String(*k.description)
	}
	if k.claims != nil {
		w.Claims = append(json.RawMessage(nil), k.claims...)
	}
	if k.reason != nil {
		w.RevocationReason = clerkapi.String(*k.reason)
	}
	if k.createdBy != nil {
		w.CreatedBy = clerkapi.String(*k.createdBy)
	}
	if withSecret {
		w.Secret = k.secret
	}
	return w
}

// apiKeyParams are the decoded parameters of a POST /api_keys body.
type apiKeyParams struct {
	typ, name, subject, description, createdBy *string
	claims                                     json.RawMessage
	scopes                                     []string
	secs                                       *float64
}

// fields lists the body's parameters, decoded into p in the order they are
// checked.
func (p *apiKeyParams) fields() []field {
	return []field{
		stringField("name", false, &p.name).need().then(func() *apiError {
			if len(*p.name) < 3 || !apiKeyNamePattern.MatchString(*p.name) {
				return errParamValue("name", "name must have at least 3 characters and no white space at either end.")
			}
			return nil
		}),
		stringField("subject", false, &p.subject).need().then(func() *apiError {
			if !apiKeySubjectPattern.MatchString(*p.subject) {
				return errParamValue("subject", "subject must be a user (user_…), organization (org_…) or machine (mch_…) ID.")
			}
			return nil
		}),
		stringField("type", false, &p.typ).then(func() *apiError {
			if n := len(*p.typ); n < 3 || n > 25 {
				return errParamValue("type", "type must have 3 to 25 characters.")
			}
			return nil
		}),
		stringField("description", true, &p.description).then(func() *apiError {
			if p.description != nil && len(*p.description) > 255 {
				return errParamValue("description", "description must have at most 255 characters.")
			}
			return nil
		}),
		nonNullField("claims", func(raw json.RawMessage) *apiError {
			k, err := canonicalJSON(raw)
			if err != nil {
				return errParamFormat("claims", "claims must be valid JSON.")
			}
			p.claims = json.RawMessage(k)
			return nil
		}),
		stringsField("scopes", false, &p.scopes),
		stringField("created_by", true, &p.createdBy).then(func() *apiError {
			if p.createdBy != nil && !userIDPattern.MatchString(*p.createdBy) {
				return errParamValue("created_by", "created_by must be a user ID (user_…).")
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
	}
}

// createAPIKey stores a new API key made from p and returns it with its secret.
func (s *Server) createAPIKey(p *apiKeyParams) *clerkapi.APIKey {
	now := s.now()
	k := &apiKey{
		id:          newAPIKeyID(),
		typ:         defaultAPIKeyType,
		subject:     *p.subject,
		name:        *p.name,
		description: p.description,
		claims:      p.claims,
		scopes:      append([]string{}, p.scopes...),
		secret:      newAPIKeySecret(),
		createdBy:   p.createdBy,
		created:     now,
		updated:     now,
	}
	if p.typ != nil {
		k.typ = *p.typ
	}
	if p.secs != nil {
		k.expiration = now.Add(time.Duration(*p.secs * float64(time.Second)))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.st.apiKeys[k.id] = k
	s.st.apiKeySecret[k.secret] = k
	s.st.apiKeyList = append(s.st.apiKeyList, k)
	return k.wire(now, true)
}

// revokeAPIKey revokes the key with ID id; revoking it again keeps the first
// reason. The caller holds s.mu.
func (s *Server) revokeAPIKey(id string, reason *string, now time.Time) (*clerkapi.APIKey, *apiError) {
	k := s.st.apiKeys[id]
	if k == nil {
		return nil, errNotFound("API key")
	}
	if !k.revoked {
		k.revoked = true
		k.reason = reason
		k.updated = now
	}
	return k.wire(now, false), nil
}

// verifyAPIKey answers POST /api_keys/verify for secret: the key, marked as
// used now, or Clerk's 404 for an unknown, revoked or expired one.
func (s *Server) verifyAPIKey(secret string) (*clerkapi.APIKey, *apiError) {
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	k := s.st.apiKeySecret[secret]
	if k == nil || k.revoked || k.isExpired(now) {
		return nil, errAPIKeyNotFound()
	}
	k.lastUsed = now
	return k.wire(now, false), nil
}

// APIKeyParams describes an API key for [Server.CreateAPIKey]; its fields are
// those of POST /api_keys.
type APIKeyParams struct {
	// Name is required: at least 3 characters, no white space at either end.
	Name string
	// Subject is required: who the key acts for, a user (user_…), an
	// organization (org_…) or a machine (mch_…) ID. The emulator does not
	// check that the user, organization or machine exists.
	Subject string
	// Scopes are free-form strings, e.g. "read"; nil for none.
	Scopes []string
	// Claims are custom claims: any value that marshals to JSON; nil for none.
	Claims any
	// Description is at most 255 bytes; empty for none (null).
	Description string
	// CreatedBy is the creating user's ID (user_…); empty for none (null).
	CreatedBy string
	// TTL is the key's lifetime (seconds_until_expiration); zero for a key
	// that never expires.
	TTL time.Duration
}

// CreateAPIKey creates an API key as POST /api_keys would, without counting
// the call or applying faults. The result carries the secret value in Secret.
// Invalid parameters give a *clerkapi.APIError with the status and errors the
// endpoint would answer.
func (s *Server) CreateAPIKey(p APIKeyParams) (*clerkapi.APIKey, error) {
	body := map[string]any{"name": p.Name, "subject": p.Subject}
	if p.Scopes != nil {
		body["scopes"] = p.Scopes
	}
	if p.Claims != nil {
		body["claims"] = p.Claims
	}
	if p.Description != "" {
		body["description"] = p.Description
	}
	if p.CreatedBy != "" {
		body["created_by"] = p.CreatedBy
	}
	switch {
	case p.TTL < 0:
		return nil, errParamValue("seconds_until_expiration", "seconds_until_expiration must be greater than 0.").toClient()
	case p.TTL > 0:
		body["seconds_until_expiration"] = p.TTL.Seconds()
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("clerktest: encoding API key params: %w", err)
	}
	var kp apiKeyParams
	if e := parseObject(b, true, kp.fields()...); e != nil {
		return nil, e.toClient()
	}
	return s.createAPIKey(&kp), nil
}

// RevokeAPIKey revokes the API key with ID id as POST /api_keys/{id}/revoke
// would; an empty reason is stored as null. An unknown ID is an error.
func (s *Server) RevokeAPIKey(id, reason string) error {
	var r *string
	if reason != "" {
		r = &reason
	}
	s.mu.Lock()
	_, e := s.revokeAPIKey(id, r, s.now())
	s.mu.Unlock()
	if e != nil {
		return errors.Join(errors.New("clerktest: revoke API key "+truncateName(id)), e.toClient())
	}
	return nil
}
