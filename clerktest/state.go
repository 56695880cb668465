package clerktest

import (
	"encoding/json"
	"time"
)

// maxScopes is how many machines one machine may be scoped to.
const maxScopes = 150

// defaultTokenTTL is a new machine's default_token_ttl in seconds.
const defaultTokenTTL = 3600

// maxTokenTTL bounds default_token_ttl and seconds_until_expiration (the spec's
// maximum for default_token_ttl: ten years).
const maxTokenTTL = 315360000

type machine struct {
	id, name  string
	secretKey string
	ttl       int64    // default_token_ttl, seconds
	scoped    []string // IDs this machine may call, in the order they were added
	scopedAt  map[string]time.Time
	created   time.Time
	updated   time.Time
}

type token struct {
	id, subject string
	value       string          // opaque secret value; empty for JWTs (never stored)
	claims      json.RawMessage // compact JSON; nil when none
	claimsKey   string          // canonical claims, for min_remaining_ttl_seconds reuse
	scopes      []string
	revoked     bool
	reason      *string
	expiration  time.Time // zero: never
	lastUsed    time.Time
	created     time.Time
	updated     time.Time
}

type oldKey struct {
	machineID string
	until     time.Time
}

// state is everything the emulator stores; guarded by Server.mu.
type state struct {
	machines  map[string]*machine
	order     []string          // machine IDs, oldest first
	keys      map[string]string // current machine secret key → machine ID
	oldKeys   map[string]oldKey // rotated keys still valid until a time
	tokens    map[string]*token // by ID
	byValue   map[string]*token // opaque value → token
	tokenList []*token          // oldest first

	apiKeys      map[string]*apiKey // by ID
	apiKeySecret map[string]*apiKey // secret value → key
	apiKeyList   []*apiKey          // oldest first

	oauthApps    map[string]*oauthApp   // by ID
	oauthClients map[string]*oauthApp   // client_id → application
	oauthAppList []*oauthApp            // oldest first
	oauthByValue map[string]*oauthToken // opaque value → token

	oauthCodes   map[string]*oauthCode  // authorization code → code, kept once used
	oauthRefresh map[string]*oauthGrant // refresh token, current or rotated → its grant
}

func (st *state) init() {
	st.machines = make(map[string]*machine)
	st.keys = make(map[string]string)
	st.oldKeys = make(map[string]oldKey)
	st.tokens = make(map[string]*token)
	st.byValue = make(map[string]*token)
	st.apiKeys = make(map[string]*apiKey)
	st.apiKeySecret = make(map[string]*apiKey)
	st.oauthApps = make(map[string]*oauthApp)
	st.oauthClients = make(map[string]*oauthApp)
	st.oauthByValue = make(map[string]*oauthToken)
	st.oauthCodes = make(map[string]*oauthCode)
	st.oauthRefresh = make(map[string]*oauthGrant)
}

// machineByKey returns the machine whose current (or rotated but still valid)
// secret key is key.
func (st *state) machineByKey(key string, now time.Time) *machine {
	if id, ok := st.keys[key]; ok {
		return st.machines[id]
	}
	if ok, found := st.oldKeys[key]; found {
		if now.Before(ok.until) {
			return st.machines[ok.machineID]
		}
		delete(st.oldKeys, key)
	}
	return nil
}

func (t *token) isExpired(now time.Time) bool {
	return !t.expiration.IsZero() && !now.Before(t.expiration)
}

func (m *machine) hasScope(id string) bool {
	_, ok := m.scopedAt[id]
	return ok
}
