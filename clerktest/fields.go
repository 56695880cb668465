package clerktest

import (
	"encoding/json"
	"math"
	"slices"
)

// A field is one parameter of a JSON request body: its name, whether it must
// be sent, and how to decode (and check) a sent value into the handler's
// variable. A handler lists its fields once, for readBody or parseObject,
// which also refuse every other parameter.
type field struct {
	name     string
	required bool                                // absent: form_param_missing
	decode   func(raw json.RawMessage) *apiError // runs only when the field was sent
}

// read decodes f from obj.
func (f field) read(obj map[string]json.RawMessage) *apiError {
	raw, ok := obj[f.name]
	switch {
	case ok:
		return f.decode(raw)
	case f.required:
		return errParamMissing(f.name)
	}
	return nil
}

// need returns f as a required field.
func (f field) need() field {
	f.required = true
	return f
}

// then returns f with check run after a successful decode, for value rules
// (lengths, ranges, enums) and rules that involve earlier fields.
func (f field) then(check func() *apiError) field {
	decode := f.decode
	f.decode = func(raw json.RawMessage) *apiError {
		if e := decode(raw); e != nil {
			return e
		}
		return check()
	}
	return f
}

// stringField decodes a JSON string into *dst. null leaves *dst nil when
// nullable and is a format error otherwise.
func stringField(name string, nullable bool, dst **string) field {
	return field{name: name, decode: func(raw json.RawMessage) *apiError {
		if isNull(raw) {
			if nullable {
				return nil
			}
			return errParamFormat(name, name+" must be a string.")
		}
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return errParamFormat(name, name+" must be a string.")
		}
		*dst = &s
		return nil
	}}
}

// numberField decodes a finite JSON number (an integer when integer) into
// *dst. null leaves *dst nil when nullable and is a format error otherwise.
func numberField(name string, nullable, integer bool, dst **float64) field {
	what := "a number"
	if integer {
		what = "an integer"
	}
	return field{name: name, decode: func(raw json.RawMessage) *apiError {
		if isNull(raw) {
			if nullable {
				return nil
			}
			return errParamFormat(name, name+" must be "+what+".")
		}
		var f float64
		if err := json.Unmarshal(raw, &f); err != nil || math.IsNaN(f) || math.IsInf(f, 0) || (integer && f != math.Trunc(f)) {
			return errParamFormat(name, name+" must be "+what+".")
		}
		*dst = &f
		return nil
	}}
}

// nonNullField decodes a sent value other than null with decode; null is
// treated as absent.
func nonNullField(name string, decode func(raw json.RawMessage) *apiError) field {
	return field{name: name, decode: func(raw json.RawMessage) *apiError {
		if isNull(raw) {
			return nil
		}
		return decode(raw)
	}}
}

// boolField decodes a JSON boolean into *dst. null leaves *dst nil when
// nullable and is a format error otherwise.
func boolField(name string, nullable bool, dst **bool) field {
	return field{name: name, decode: func(raw json.RawMessage) *apiError {
		if isNull(raw) {
			if nullable {
				return nil
			}
			return errParamFormat(name, name+" must be a boolean.")
		}
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return errParamFormat(name, name+" must be a boolean.")
		}
		*dst = &b
		return nil
	}}
}

// stringsField decodes a JSON array of strings into *dst (never nil once
// decoded). null leaves *dst nil when nullable and is a format error
// otherwise.
func stringsField(name string, nullable bool, dst *[]string) field {
	return field{name: name, decode: func(raw json.RawMessage) *apiError {
		if isNull(raw) {
			if nullable {
				return nil
			}
			return errParamFormat(name, name+" must be an array of strings.")
		}
		var items []*string // a null item stays nil rather than becoming ""
		if err := json.Unmarshal(raw, &items); err != nil || items == nil || slices.Contains(items, nil) {
			return errParamFormat(name, name+" must be an array of strings.")
		}
		v := make([]string, len(items))
		for i, p := range items {
			v[i] = *p
		}
		*dst = v
		return nil
	}}
}
