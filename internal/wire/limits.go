package wire

// MaxTokenLength is the longest bearer token m2mauth considers; longer ones
// are invalid without a call to Clerk. A JWT that Clerk issues lists the
// scoped machines twice (aud and scopes): about 14 KB for the maximum of 150,
// more with large custom claims. 32 KiB leaves room for both while keeping a
// bound on the bytes a request can make the verifier hash and parse.
const MaxTokenLength = 32 << 10

// MaxAuthorizationLen is the largest Authorization header value accepted:
// "Bearer " and a token of up to MaxTokenLength, with room for extra spaces.
const MaxAuthorizationLen = MaxTokenLength + 64
