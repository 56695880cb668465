package clerktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"math"
	"net/http"
	"sort"
	"strings"
)

// maxRequestBody is the largest request body the emulator reads.
const maxRequestBody = 1 << 20

// readObject reads a JSON object body of at most maxRequestBody bytes and
// checks that it has only the allowed fields. required says whether an empty
// body is an error; an empty optional body is an empty object.
func readObject(w http.ResponseWriter, r *http.Request, required bool, allowed ...string) (map[string]json.RawMessage, *apiError) {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, errBodyTooLarge()
		}
		return nil, errBodyInvalid("The request body could not be read.")
	}
	return parseObject(data, required, allowed...)
}

func parseObject(data []byte, required bool, allowed ...string) (map[string]json.RawMessage, *apiError) {
	if len(bytes.TrimSpace(data)) == 0 {
		if required {
			return nil, errBodyInvalid("The request body is required and must be a JSON object.")
		}
		return map[string]json.RawMessage{}, nil
	}
	if !json.Valid(data) {
		return nil, errBodyInvalid("The request body is not valid JSON.")
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil || obj == nil {
		if !required && bytes.Equal(bytes.TrimSpace(data), []byte("null")) {
			return map[string]json.RawMessage{}, nil
		}
		return nil, errBodyInvalid("The request body must be a JSON object.")
	}
	names := make([]string, 0, len(obj))
	for k := range obj {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		found := false
		for _, a := range allowed {
			if k == a {
				found = true
				break
			}
		}
		if !found {
			return nil, errParamUnknown(truncateName(k))
		}
	}
	return obj, nil
}

// truncateName keeps an echoed unknown parameter name short and printable.
func truncateName(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	if len(s) > 64 {
		s = s[:64]
	}
	return s
}

func isNull(v json.RawMessage) bool { return bytes.Equal(bytes.TrimSpace(v), []byte("null")) }

// stringField decodes a string field; present reports whether it was sent.
func stringField(obj map[string]json.RawMessage, name string, nullable bool) (v *string, present bool, e *apiError) {
	raw, ok := obj[name]
	if !ok {
		return nil, false, nil
	}
	if isNull(raw) {
		if !nullable {
			return nil, true, errParamFormat(name, name+" must be a string.")
		}
		return nil, true, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, true, errParamFormat(name, name+" must be a string.")
	}
	return &s, true, nil
}

// numberField decodes a number field (nil when absent or null and nullable).
func numberField(obj map[string]json.RawMessage, name string, nullable, integer bool) (*float64, *apiError) {
	raw, ok := obj[name]
	if !ok {
		return nil, nil
	}
	what := "a number"
	if integer {
		what = "an integer"
	}
	if isNull(raw) {
		if nullable {
			return nil, nil
		}
		return nil, errParamFormat(name, name+" must be "+what+".")
	}
	var f float64
	if err := json.Unmarshal(raw, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, errParamFormat(name, name+" must be "+what+".")
	}
	if integer && f != math.Trunc(f) {
		return nil, errParamFormat(name, name+" must be "+what+".")
	}
	return &f, nil
}

// canonicalJSON re-encodes v with sorted object keys and exact numbers, so
// equal JSON values compare equal as strings.
func canonicalJSON(raw json.RawMessage) (string, error) {
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return "", err
	}
	b, err := json.Marshal(v)
	return string(b), err
}
