package linger

// Outcome says how a close ended.
type Outcome uint32

// Outcomes of a close. Pending means it has not finished yet; every other value is
// final. Only Graceful, Delivered-then-Graceful and Plain send no reset.
const (
	Pending       Outcome = iota // still closing
	Graceful                     // both FINs exchanged: closed with no reset
	Plain                        // not a connection (listen, datagram, unconnected): closed as is
	ResetHard                    // {1,0}: abortive at once
	ResetData                    // data arrived after the close
	ResetTimeout                 // the peer's FIN did not come within Config.FINTimeout
	ResetLinger                  // {1,n}: the data was not delivered within n
	ResetRefused                 // the background table was full
	ResetPeer                    // the connection failed first (a peer reset, a transport error)
	ResetShutdown                // Engine.Shutdown aborted it, or refused it while shutting down
	numOutcomes
)

var outcomeNames = [numOutcomes]string{
	"pending", "graceful", "plain", "reset-hard", "reset-data", "reset-timeout",
	"reset-linger", "reset-refused", "reset-peer", "reset-shutdown",
}

// String names the outcome ("graceful", "reset-timeout", ...).
func (o Outcome) String() string {
	if o < numOutcomes {
		return outcomeNames[o]
	}
	return "outcome(?)"
}

// Reset reports whether the outcome sent (or met) a reset.
func (o Outcome) Reset() bool { return o >= ResetHard && o < numOutcomes }
