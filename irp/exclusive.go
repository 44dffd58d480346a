package irp

// Exclusive entry: the guard of a socket enters every IRP it accepts through
// EnterExclusive, so that handing it an IRP it still holds (a pending IRP sent again) is
// caught before anything touches the IRP. Plain Enter cannot tell that case from a
// legitimate pass-through, where a driver sends down an IRP it received from above: both
// see the state Submitted, and only the caller's identity differs.

// EnterExclusive is Enter for a device that may hold a given IRP only once at a time. When
// dev already holds i (i was entered through EnterExclusive(dev) and has not completed
// past dev's location), the call is a resubmission of a pending IRP: bug check 0xC9
// IRP_SENT_WHILE_PENDING (a panic in verifier mode, counted otherwise), i is left
// untouched, and held is true. The caller must then neither complete nor otherwise touch
// i: its owner is the device that holds it. Otherwise it behaves exactly like Enter.
//
// Concurrency: safe to race with the completion of the held IRP and with another
// EnterExclusive of the same IRP (exactly one wins); as with Enter, the winner must own i.
func (i *IRP) EnterExclusive(dev *Device) (st Status, held bool) {
	if !i.exclusive.CompareAndSwap(nil, dev) {
		report(vSentWhilePending, "IRP sent to "+dev.Name+" while "+holderName(i)+" still holds it")
		return InvalidParameter, true
	}
	if st := i.Enter(dev); st != Success {
		i.exclusive.CompareAndSwap(dev, nil)
		return st, false
	}
	return Success, false
}

// HeldExclusively reports whether dev holds i through EnterExclusive. It reads one atomic
// word, so anyone may call it, but the answer can be stale as soon as it returns.
func (i *IRP) HeldExclusively(dev *Device) bool { return i.exclusive.Load() == dev }

func holderName(i *IRP) string {
	if d := i.exclusive.Load(); d != nil {
		return d.Name
	}
	return "another caller"
}
