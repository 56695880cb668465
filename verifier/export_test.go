package verifier

// CheckSyntax exposes the local syntax check of step 1 to the external tests,
// which build Clerk-shaped tokens.
func CheckSyntax(tok string) error {
	if err := checkSyntax(tok); err != nil {
		return err
	}
	return nil
}

// WaitForRefreshes returns when the background refreshes started so far have
// ended: tests use it as the join point of a refresh, instead of sleeping.
func WaitForRefreshes(v *Verifier) { v.refreshes.Wait() }
