-- door: what a booking was made for. A booking for a lesson of the
-- timetable keeps the lesson's subject code and class or group code, so
-- that the usage statistics count bookings per subject and class level
-- (NULL for a booking of a free slot).
ALTER TABLE bookings ADD COLUMN subject TEXT;
ALTER TABLE bookings ADD COLUMN structure TEXT;
-- The statistics read the bookings of a date range.
CREATE INDEX bookings_starts ON bookings (starts);

-- Sign-ins per ISO week, role and account (one row each, counted up at
-- every successful sign-in), so that the statistics read a few thousand
-- rows a week instead of the whole audit log; filled once from the
-- audit log's past sign-ins.
CREATE TABLE signin_weeks (
    week TEXT NOT NULL,
    role TEXT NOT NULL,
    login TEXT NOT NULL,
    sign_ins INTEGER NOT NULL,
    PRIMARY KEY (week, role, login)
) STRICT, WITHOUT ROWID;
INSERT INTO signin_weeks (week, role, login, sign_ins)
SELECT strftime('%G-W%V', a.at),
       CASE WHEN p.id IS NULL THEN 'administrateur'
            WHEN p.kind = 'student' THEN 'élève'
            WHEN p.kind = 'parent' THEN 'responsable'
            WHEN p.kind = 'teacher' OR p.function = 'ENS' THEN 'enseignant'
            WHEN p.function = 'DIR' THEN 'direction'
            WHEN p.function = 'EDU' THEN 'vie scolaire'
            ELSE 'personnel' END,
       a.actor, count(*)
FROM audit_log a LEFT JOIN people p ON p.login = a.actor
WHERE a.action = 'connexion' AND a.outcome = 'réussie'
GROUP BY 1, 2, 3;

-- One sample a day of the space each share uses (the shares module's
-- du-like walk, taken by `preau serve`), for usage over time.
CREATE TABLE share_usage_samples (
    day TEXT NOT NULL,
    share TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    files INTEGER NOT NULL,
    PRIMARY KEY (day, share)
) STRICT, WITHOUT ROWID;
