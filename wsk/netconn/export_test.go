package netconn

// AcceptErr exposes acceptErr to the tests of the accept-loop contract.
var AcceptErr = acceptErr
