package clerktest

import (
	"cmp"
	"math"
	"net/http"
	"regexp"
	"strings"

	"github.com/m2mauth/m2mauth/clerkapi"
)

// The handlers below serve the API keys API, which needs the Clerk secret
// key: ServeHTTP answers 401 to a machine key before calling them.

// apiKeyList is the answer of GET /api_keys.
type apiKeyList struct {
	Data       []*clerkapi.APIKey `json:"data"`
	TotalCount int64              `json:"total_count"`
}

// apiKeySecret is the answer of GET /api_keys/{id}/secret.
type apiKeySecret struct {
	Secret string `json:"secret"`
}

// listSubjectPattern is the spec's pattern of GET /api_keys?subject=.
var listSubjectPattern = regexp.MustCompile(`^(user|org|mch|scim)_\w{27}$`)

func (s *Server) handleCreateAPIKey(w http.ResponseWriter, r *http.Request, _ caller) {
	var p apiKeyParams
	if !readBody(w, r, true, p.fields()...) {
		return
	}
	writeJSON(w, http.StatusOK, s.createAPIKey(&p))
}

func (s *Server) handleListAPIKeys(w http.ResponseWriter, r *http.Request, _ caller) {
	vals, e := parseQuery(r.URL.RawQuery)
	limit, offset := 10, 0
	if e == nil {
		e = cmp.Or(intParam(vals, "limit", 1, 100, true, &limit), intParam(vals, "offset", 0, math.MaxInt32, true, &offset))
	}
	subject, typ := vals.Get("subject"), defaultAPIKeyType
	switch {
	case e != nil:
	case !vals.Has("subject"):
		e = errURLParam("query_parameter", "subject", "Missing required parameter")
	case !listSubjectPattern.MatchString(subject):
		e = errURLParam("query_parameter", "subject", "Failed regex check")
	case vals.Has("type") && len(vals.Get("type")) < 3:
		e = errURLParam("query_parameter", "type", "Must have at least 3 characters")
	case vals.Has("include_invalid") && vals.Get("include_invalid") != "true" && vals.Get("include_invalid") != "false":
		e = errURLParam("query_parameter", "include_invalid", "Must be one of true, false")
	}
	if e != nil {
		writeError(w, e)
		return
	}
	if vals.Has("type") {
		typ = vals.Get("type")
	}
	invalid := vals.Get("include_invalid") == "true"
	query := strings.ToLower(vals.Get("query"))
	now := s.now()
	s.respond(w, http.StatusOK, func() (any, *apiError) {
		out := apiKeyList{Data: []*clerkapi.APIKey{}}
		for i := len(s.st.apiKeyList) - 1; i >= 0; i-- { // newest first
			k := s.st.apiKeyList[i]
			if k.subject != subject || k.typ != typ || (!invalid && (k.revoked || k.isExpired(now))) ||
				!strings.Contains(strings.ToLower(k.name), query) {
				continue
			}
			if out.TotalCount >= int64(offset) && len(out.Data) < limit {
				out.Data = append(out.Data, k.wire(now, false))
			}
			out.TotalCount++
		}
		return out, nil
	})
}

// apiKeyID returns the {apiKeyID} path parameter, or answers 400 when it
// fails the spec's pattern.
func apiKeyID(w http.ResponseWriter, r *http.Request) (string, bool) {
	id := r.PathValue("apiKeyID")
	if !apiKeyPathIDPattern.MatchString(id) {
		writeError(w, errURLParam("url_parameter", "apiKeyID", "Failed regex check"))
		return "", false
	}
	return id, true
}

func (s *Server) handleGetAPIKey(w http.ResponseWriter, r *http.Request, _ caller) {
	id, ok := apiKeyID(w, r)
	if !ok {
		return
	}
	now := s.now()
	s.respond(w, http.StatusOK, func() (any, *apiError) {
		k := s.st.apiKeys[id]
		if k == nil {
			return nil, errNotFound("API key")
		}
		return k.wire(now, false), nil
	})
}

func (s *Server) handleGetAPIKeySecret(w http.ResponseWriter, r *http.Request, _ caller) {
	id, ok := apiKeyID(w, r)
	if !ok {
		return
	}
	s.respond(w, http.StatusOK, func() (any, *apiError) {
		k := s.st.apiKeys[id]
		if k == nil {
			return nil, errNotFound("API key")
		}
		return apiKeySecret{Secret: k.secret}, nil
	})
}

func (s *Server) handleRevokeAPIKey(w http.ResponseWriter, r *http.Request, _ caller) {
	id, ok := apiKeyID(w, r)
	if !ok {
		return
	}
	var reason *string
	if !readBody(w, r, true, stringField("revocation_reason", true, &reason)) {
		return
	}
	now := s.now()
	s.respond(w, http.StatusOK, func() (any, *apiError) { return s.revokeAPIKey(id, reason, now) })
}

func (s *Server) handleVerifyAPIKey(w http.ResponseWriter, r *http.Request, _ caller) {
	var secret *string
	if !readBody(w, r, true, stringField("secret", false, &secret).need()) {
		return
	}
	k, e := s.verifyAPIKey(*secret)
	reply(w, http.StatusOK, k, e)
}
