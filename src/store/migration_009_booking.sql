-- Bookable resources: rooms and equipment (laptop carts, tablets,
-- projectors) with how many units there are; an optional manager
-- approves requests; teachers_allowed: whether teachers may book it.
CREATE TABLE booking_resources (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('room', 'equipment')),
    quantity INTEGER NOT NULL CHECK (quantity >= 1),
    manager TEXT,
    teachers_allowed INTEGER NOT NULL DEFAULT 1,
    active INTEGER NOT NULL DEFAULT 1
) STRICT;

-- Bookings, [starts, ends) in Unix seconds. Pending and confirmed ones
-- hold their units; a recurring booking is one row per occurrence with
-- the same series.
CREATE TABLE bookings (
    id INTEGER PRIMARY KEY,
    resource_id INTEGER NOT NULL REFERENCES booking_resources (id),
    login TEXT NOT NULL,
    starts INTEGER NOT NULL,
    ends INTEGER NOT NULL CHECK (ends > starts),
    quantity INTEGER NOT NULL CHECK (quantity >= 1),
    status TEXT NOT NULL CHECK (status IN ('pending', 'confirmed', 'cancelled', 'refused')),
    series TEXT,
    note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    decided_by TEXT
) STRICT;
CREATE INDEX bookings_resource_time ON bookings (resource_id, starts);
CREATE INDEX bookings_login ON bookings (login);
