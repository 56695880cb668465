package verifier

// EnforcesAudience reports whether Clerk itself refuses the tokens that were
// not granted to this service: true with a machine secret key (ak_…), with
// which Clerk's verify answers 404 for a token whose scopes lack the key's
// machine; false with a Clerk secret key (sk_…), with which Clerk, and the
// local JWT check, accept a token of any machine of the instance.
//
// middleware.New asks it (through middleware.AudienceEnforcer) to decide
// whether an Authenticator without an audience is safe. A nil Verifier
// enforces nothing.
func (v *Verifier) EnforcesAudience() bool {
	return v != nil && v.keyKind == "ak"
}
