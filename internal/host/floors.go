package host

import "github.com/dokv/dokv/driver"

// maxRememberedDrops bounds the dropped objects whose last versions a
// host remembers one by one (about 60 bytes each).
const maxRememberedDrops = 10_000

// droppedVersions is what a host remembers of the objects it
// dropped, so that an object created again under the same ID hands out
// larger versions than before: the last version of each of the most recent
// drops, so that the object counts on from its own versions as if it had
// never left; and, for the drops forgotten to keep memory bounded, the
// highest of their versions, which every new object then exceeds.
type droppedVersions struct {
	last  map[driver.ObjectID]droppedObject
	order []droppedAt // drops, oldest first; entries may be stale
	seq   uint64
	floor uint64 // the highest version of every forgotten drop
}

type droppedObject struct{ version, seq uint64 }

type droppedAt struct {
	id  driver.ObjectID
	seq uint64
}

// add remembers that object id was dropped with version as its last.
func (d *droppedVersions) add(id driver.ObjectID, version uint64) {
	if d.last == nil {
		d.last = make(map[driver.ObjectID]droppedObject)
	}
	d.seq++
	d.last[id] = droppedObject{version: version, seq: d.seq}
	d.order = append(d.order, droppedAt{id: id, seq: d.seq})
	for len(d.last) > maxRememberedDrops {
		old := d.order[0]
		d.order = d.order[1:]
		if o, ok := d.last[old.id]; ok && o.seq == old.seq {
			d.floor = max(d.floor, o.version)
			delete(d.last, old.id)
		}
	}
	if len(d.order) > 2*maxRememberedDrops {
		d.compact()
	}
}

// compact drops the stale entries of order.
func (d *droppedVersions) compact() {
	live := d.order[:0]
	for _, e := range d.order {
		if o, ok := d.last[e.id]; ok && o.seq == e.seq {
			live = append(live, e)
		}
	}
	d.order = append([]droppedAt(nil), live...)
}

// take returns the version a new object id must exceed, and forgets the
// object's own entry, which the new object now carries.
func (d *droppedVersions) take(id driver.ObjectID) uint64 {
	if o, ok := d.last[id]; ok {
		delete(d.last, id)
		return max(o.version, d.floor)
	}
	return d.floor
}
