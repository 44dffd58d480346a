package dispatch

import "encoding/binary"

// EventCallbackControl is WSK_EVENT_CALLBACK_CONTROL, the input of SO_WSK_EVENT_CALLBACK.
type EventCallbackControl struct {
	NpiID     [16]byte
	EventMask EventMask
}

// eventCallbackControlSize is sizeof(WSK_EVENT_CALLBACK_CONTROL) with the NPI id inline.
const eventCallbackControlSize = 20

// Marshal encodes c as ControlSocket input (20 bytes: NpiID then little-endian mask).
func (c EventCallbackControl) Marshal() []byte {
	b := make([]byte, eventCallbackControlSize)
	copy(b, c.NpiID[:])
	binary.LittleEndian.PutUint32(b[16:], uint32(c.EventMask))
	return b
}

// ParseEventCallbackControl decodes ControlSocket input; ok is false for a bad size.
func ParseEventCallbackControl(in []byte) (c EventCallbackControl, ok bool) {
	if len(in) != eventCallbackControlSize {
		return c, false
	}
	copy(c.NpiID[:], in)
	c.EventMask = EventMask(binary.LittleEndian.Uint32(in[16:]))
	return c, true
}
