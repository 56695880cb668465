package clerktest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
)

// maxRequestBody is the largest request body the emulator reads.
const maxRequestBody = 1 << 20

// readBody reads r's JSON object body into fields (see parseObject), reading
// at most maxRequestBody bytes, and answers the first error itself. It reports
// whether the handler may go on.
func readBody(w http.ResponseWriter, r *http.Request, required bool, fields ...field) bool {
	e := readObject(w, r, required, fields...)
	if e != nil {
		writeError(w, e)
	}
	return e == nil
}

func readObject(w http.ResponseWriter, r *http.Request, required bool, fields ...field) *apiError {
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return errBodyTooLarge()
		}
		return errBodyInvalid("The request body could not be read.")
	}
	return parseObject(data, required, fields...)
}

// parseObject checks that data is a JSON object with no parameters but fields
// and then decodes the fields in order; the first error wins. required says
// whether an empty body is an error; an empty optional body is an empty object.
func parseObject(data []byte, required bool, fields ...field) *apiError {
	obj, e := object(data, required)
	if e != nil {
		return e
	}
	if e := onlyFields(obj, fields); e != nil {
		return e
	}
	for _, f := range fields {
		if e := f.read(obj); e != nil {
			return e
		}
	}
	return nil
}

func object(data []byte, required bool) (map[string]json.RawMessage, *apiError) {
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
	return obj, nil
}

// onlyFields refuses the first parameter of obj, in name order, that is not
// one of fields.
func onlyFields(obj map[string]json.RawMessage, fields []field) *apiError {
	names := slices.Sorted(maps.Keys(obj))
	for _, k := range names {
		if !slices.ContainsFunc(fields, func(f field) bool { return f.name == k }) {
			return errParamUnknown(truncateName(k))
		}
	}
	return nil
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
