-- door: what a booking was made for. A booking for a lesson of the
-- timetable keeps the lesson's subject code and class or group code, so
-- that the usage statistics count bookings per subject and class level
-- (NULL for a booking of a free slot).
ALTER TABLE bookings ADD COLUMN subject TEXT;
ALTER TABLE bookings ADD COLUMN structure TEXT;

-- The usage statistics count sign-ins per week from the audit log.
CREATE INDEX audit_log_action_at ON audit_log (action, at);
