package verifier

// WaitForRefreshes returns when the background refreshes started so far have
// ended: tests use it as the join point of a refresh, instead of sleeping.
func WaitForRefreshes(v *Verifier) { v.refreshes.Wait() }
