package clerktest

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
)

// Wire shapes of the /machines endpoints (the spec's Machine, Machine.List,
// Machine.Created, Machine.SecretKey, MachineScope, …).
type (
	machineJSON struct {
		Object          string `json:"object"`
		ID              string `json:"id"`
		Name            string `json:"name"`
		InstanceID      string `json:"instance_id"`
		CreatedAt       int64  `json:"created_at"`
		UpdatedAt       int64  `json:"updated_at"`
		DefaultTokenTTL int64  `json:"default_token_ttl"`
	}
	machineWithScopes struct {
		machineJSON
		ScopedMachines []machineJSON `json:"scoped_machines"`
	}
	machineCreated struct {
		machineWithScopes
		SecretKey string `json:"secret_key"`
	}
	machineList struct {
		Data       []machineWithScopes `json:"data"`
		TotalCount int64               `json:"total_count"`
	}
	machineDeleted struct {
		Object  string `json:"object"`
		ID      string `json:"id"`
		Deleted bool   `json:"deleted"`
	}
	machineSecretKey struct {
		Object string `json:"object"`
		Secret string `json:"secret"`
	}
	machineScope struct {
		Object        string `json:"object"`
		FromMachineID string `json:"from_machine_id"`
		ToMachineID   string `json:"to_machine_id"`
		CreatedAt     int64  `json:"created_at"`
	}
	machineScopeDeleted struct {
		Object        string `json:"object"`
		FromMachineID string `json:"from_machine_id"`
		ToMachineID   string `json:"to_machine_id"`
		Deleted       bool   `json:"deleted"`
	}
)

func (s *Server) machineJSON(m *machine) machineJSON {
	return machineJSON{
		Object: "machine", ID: m.id, Name: m.name, InstanceID: s.instanceID,
		CreatedAt: m.created.UnixMilli(), UpdatedAt: m.updated.UnixMilli(), DefaultTokenTTL: m.ttl,
	}
}

// machineWithScopes renders m; the caller holds s.mu.
func (s *Server) machineWithScopes(m *machine) machineWithScopes {
	w := machineWithScopes{machineJSON: s.machineJSON(m), ScopedMachines: []machineJSON{}}
	for _, id := range m.scoped {
		if o := s.st.machines[id]; o != nil {
			w.ScopedMachines = append(w.ScopedMachines, s.machineJSON(o))
		}
	}
	return w
}

// nameField reads a machine's name (1 to 255 characters) into *dst.
func nameField(dst **string) field {
	return stringField("name", false, dst).then(func() *apiError {
		if n := len(**dst); n < 1 || n > 255 {
			return errParamValue("name", "name must have 1 to 255 characters.")
		}
		return nil
	})
}

// ttlField reads default_token_ttl (whole seconds, 1 to maxTokenTTL) into *dst.
func ttlField(dst **int64) field {
	var f *float64
	return numberField("default_token_ttl", false, true, &f).then(func() *apiError {
		if *f < 1 || *f > maxTokenTTL {
			return errParamValue("default_token_ttl", fmt.Sprintf("default_token_ttl must be between 1 and %d.", maxTokenTTL))
		}
		v := int64(*f)
		*dst = &v
		return nil
	})
}

// The handlers below serve the machines API, which needs the Clerk secret
// key: ServeHTTP answers 403 to a machine key before calling them.

func (s *Server) handleCreateMachine(w http.ResponseWriter, r *http.Request, _ caller) {
	var (
		name   *string
		ttl    *int64
		scoped []string
	)
	if !readBody(w, r, true,
		nameField(&name).need(),
		ttlField(&ttl),
		nonNullField("scoped_machines", func(raw json.RawMessage) *apiError {
			if err := json.Unmarshal(raw, &scoped); err != nil {
				return errParamFormat("scoped_machines", "scoped_machines must be an array of machine IDs.")
			}
			return nil
		}),
	) {
		return
	}
	s.respond(w, http.StatusOK, func() (any, *apiError) {
		if err := s.checkScopes(scoped); err != nil {
			return nil, errParamValue("scoped_machines", "scoped_machines: "+err.Error()+".")
		}
		m := s.newMachine(*name, cmp.Or(derefInt(ttl), defaultTokenTTL), scoped, s.now())
		return machineCreated{machineWithScopes: s.machineWithScopes(m), SecretKey: m.secretKey}, nil
	})
}

func derefInt(p *int64) int64 {
	if p == nil {
		return 0
	}
	return *p
}

func (s *Server) handleListMachines(w http.ResponseWriter, r *http.Request, _ caller) {
	vals, e := parseQuery(r.URL.RawQuery)
	var p listParams
	if e == nil {
		p, e = parseListParams(vals)
	}
	if e != nil {
		writeError(w, e)
		return
	}
	query := vals.Get("query")

	s.respond(w, http.StatusOK, func() (any, *apiError) {
		var ms []*machine // creation order
		for _, id := range s.st.order {
			m := s.st.machines[id]
			if query == "" || m.id == query || strings.Contains(strings.ToLower(m.name), strings.ToLower(query)) {
				ms = append(ms, m)
			}
		}
		out := machineList{Data: []machineWithScopes{}, TotalCount: int64(len(ms))}
		for _, m := range page(ms, p, func(m *machine) time.Time { return m.created }, func(m *machine) string { return m.name }) {
			out.Data = append(out.Data, s.machineWithScopes(m))
		}
		return out, nil
	})
}

// lookup returns the machine with ID id or Clerk's 404; the caller holds s.mu.
func (s *Server) lookup(id string) (*machine, *apiError) {
	m := s.st.machines[id]
	if m == nil {
		return nil, errNotFound("Machine")
	}
	return m, nil
}

func (s *Server) handleGetMachine(w http.ResponseWriter, r *http.Request, _ caller) {
	id := r.PathValue("machine_id")
	s.respond(w, http.StatusOK, func() (any, *apiError) {
		m, e := s.lookup(id)
		if e != nil {
			return nil, e
		}
		return s.machineWithScopes(m), nil
	})
}

func (s *Server) handleUpdateMachine(w http.ResponseWriter, r *http.Request, _ caller) {
	id := r.PathValue("machine_id")
	var (
		name *string
		ttl  *int64
	)
	if !readBody(w, r, false, nameField(&name), ttlField(&ttl)) {
		return
	}
	s.respond(w, http.StatusOK, func() (any, *apiError) {
		m, e := s.lookup(id)
		if e != nil {
			return nil, e
		}
		if name != nil {
			m.name = *name
		}
		if ttl != nil {
			m.ttl = *ttl
		}
		m.updated = s.now()
		return s.machineWithScopes(m), nil
	})
}

func (s *Server) handleDeleteMachine(w http.ResponseWriter, r *http.Request, _ caller) {
	id := r.PathValue("machine_id")
	s.respond(w, http.StatusOK, func() (any, *apiError) {
		if !s.deleteMachine(id, s.now()) {
			return nil, errNotFound("Machine")
		}
		return machineDeleted{Object: "machine", ID: id, Deleted: true}, nil
	})
}

func (s *Server) handleGetSecretKey(w http.ResponseWriter, r *http.Request, _ caller) {
	id := r.PathValue("machine_id")
	s.respond(w, http.StatusOK, func() (any, *apiError) {
		m, e := s.lookup(id)
		if e != nil {
			return nil, e
		}
		return machineSecretKey{Object: "machine_secret_key", Secret: m.secretKey}, nil
	})
}

func (s *Server) handleRotateSecretKey(w http.ResponseWriter, r *http.Request, _ caller) {
	id := r.PathValue("machine_id")
	var prev *float64
	if !readBody(w, r, true, numberField("previous_token_ttl", false, true, &prev).need().then(func() *apiError {
		if *prev < 0 || *prev > 28800 {
			return errParamValue("previous_token_ttl", "previous_token_ttl must be between 0 and 28800.")
		}
		return nil
	})) {
		return
	}
	now := s.now()
	s.respond(w, http.StatusOK, func() (any, *apiError) {
		m, e := s.lookup(id)
		if e != nil {
			return nil, e
		}
		delete(s.st.keys, m.secretKey)
		if *prev > 0 {
			s.st.oldKeys[m.secretKey] = oldKey{machineID: m.id, until: now.Add(time.Duration(*prev) * time.Second)}
		}
		m.secretKey = newMachineKey()
		s.st.keys[m.secretKey] = m.id
		m.updated = now
		return machineSecretKey{Object: "machine_secret_key", Secret: m.secretKey}, nil
	})
}

func (s *Server) handleCreateScope(w http.ResponseWriter, r *http.Request, _ caller) {
	id := r.PathValue("machine_id")
	var to *string
	if !readBody(w, r, true, stringField("to_machine_id", false, &to).need()) {
		return
	}
	now := s.now()
	s.respond(w, http.StatusOK, func() (any, *apiError) {
		_, err := s.addScope(id, *to, now)
		switch {
		case errors.Is(err, ErrUnknownMachine):
			return nil, errNotFound("Machine")
		case errors.Is(err, ErrScopeExists):
			return nil, errConflict("The machine already has access to the target machine.")
		case errors.Is(err, ErrTooManyScopes):
			return nil, errParamValue("to_machine_id", fmt.Sprintf("A machine can have at most %d scopes.", maxScopes))
		}
		return machineScope{Object: "machine_scope", FromMachineID: id, ToMachineID: *to, CreatedAt: now.UnixMilli()}, nil
	})
}

func (s *Server) handleDeleteScope(w http.ResponseWriter, r *http.Request, _ caller) {
	id := r.PathValue("machine_id")
	other := r.PathValue("other_machine_id")
	s.respond(w, http.StatusOK, func() (any, *apiError) {
		switch err := s.removeScope(id, other, s.now()); {
		case errors.Is(err, ErrUnknownMachine):
			return nil, errNotFound("Machine")
		case errors.Is(err, ErrNoScope):
			return nil, errNotFound("Machine scope")
		}
		return machineScopeDeleted{Object: "machine_scope", FromMachineID: id, ToMachineID: other, Deleted: true}, nil
	})
}
