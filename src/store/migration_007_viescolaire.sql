-- School life (module viescolaire). Every row about a pupil references the
-- person (people.id), never the class: a student changing class keeps his
-- attendance, marks and report cards. Times are local "HH:MM", dates
-- "YYYY-MM-DD", moments "YYYY-MM-DDTHH:MM". Decimal quantities (marks,
-- scales, coefficients) are integers in hundredths, so averages are exact.

CREATE TABLE vs_years (
    id INTEGER PRIMARY KEY,
    label TEXT NOT NULL UNIQUE,
    starts TEXT NOT NULL,
    ends TEXT NOT NULL,
    CHECK (starts < ends)
) STRICT;

-- Terms or semesters, numbered from 1 within the year.
CREATE TABLE vs_periods (
    id INTEGER PRIMARY KEY,
    year_id INTEGER NOT NULL REFERENCES vs_years (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    label TEXT NOT NULL,
    starts TEXT NOT NULL,
    ends TEXT NOT NULL,
    UNIQUE (year_id, number),
    CHECK (starts <= ends)
) STRICT;

-- School holidays, both dates included.
CREATE TABLE vs_holidays (
    id INTEGER PRIMARY KEY,
    year_id INTEGER NOT NULL REFERENCES vs_years (id) ON DELETE CASCADE,
    label TEXT NOT NULL,
    starts TEXT NOT NULL,
    ends TEXT NOT NULL,
    CHECK (starts <= ends)
) STRICT;

-- Which week is A and which is B, by the Monday of the week.
CREATE TABLE vs_weeks (
    monday TEXT PRIMARY KEY,
    week TEXT NOT NULL CHECK (week IN ('A', 'B'))
) STRICT;

-- Weekly slots of the timetable, each on a teaching service.
CREATE TABLE vs_slots (
    id INTEGER PRIMARY KEY,
    year_id INTEGER NOT NULL REFERENCES vs_years (id) ON DELETE CASCADE,
    teacher_id INTEGER NOT NULL REFERENCES people (id),
    subject_code TEXT NOT NULL,
    structure_id INTEGER NOT NULL REFERENCES structures (id),
    weekday INTEGER NOT NULL CHECK (weekday BETWEEN 1 AND 7),
    starts TEXT NOT NULL,
    ends TEXT NOT NULL,
    room TEXT NOT NULL DEFAULT '',
    weeks TEXT NOT NULL DEFAULT 'all' CHECK (weeks IN ('all', 'A', 'B')),
    valid_from TEXT,
    valid_to TEXT,
    -- csv, edt or manual, and the line or course number it came from.
    source TEXT NOT NULL,
    source_key TEXT,
    CHECK (starts < ends)
) STRICT;
CREATE INDEX vs_slots_teacher ON vs_slots (teacher_id);
CREATE INDEX vs_slots_structure ON vs_slots (structure_id);

-- Changes to the timetable, each labelled: a cancelled lesson (teacher
-- absent), a room change, a lesson moved to another date or time, a
-- replacement teacher, an exceptional lesson (no slot).
CREATE TABLE vs_exceptions (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('cancelled', 'room', 'moved', 'replacement', 'extra')),
    slot_id INTEGER REFERENCES vs_slots (id) ON DELETE CASCADE,
    date TEXT NOT NULL,
    new_date TEXT,
    new_starts TEXT,
    new_ends TEXT,
    new_room TEXT,
    replacement_id INTEGER REFERENCES people (id),
    -- The exceptional lesson's service.
    teacher_id INTEGER REFERENCES people (id),
    subject_code TEXT,
    structure_id INTEGER REFERENCES structures (id),
    reason TEXT NOT NULL DEFAULT '',
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK ((kind = 'extra') = (slot_id IS NULL))
) STRICT;
CREATE INDEX vs_exceptions_date ON vs_exceptions (date);

-- Concrete lessons, recorded when something is attached to them (a roll,
-- a homework log entry): a slot on a date, or an exceptional lesson.
CREATE TABLE vs_lessons (
    id INTEGER PRIMARY KEY,
    slot_id INTEGER REFERENCES vs_slots (id),
    exception_id INTEGER REFERENCES vs_exceptions (id),
    -- The slot's own date (a moved lesson keeps it; date is where it is).
    slot_date TEXT,
    date TEXT NOT NULL,
    starts TEXT NOT NULL,
    ends TEXT NOT NULL,
    teacher_id INTEGER NOT NULL REFERENCES people (id),
    subject_code TEXT NOT NULL,
    structure_id INTEGER NOT NULL REFERENCES structures (id),
    room TEXT NOT NULL DEFAULT '',
    roll_taken_by TEXT,
    roll_taken_at TEXT,
    UNIQUE (slot_id, slot_date),
    UNIQUE (exception_id)
) STRICT;
CREATE INDEX vs_lessons_date ON vs_lessons (date);

-- The roll: absent by exception (present is the default and is stored
-- only once the roll is taken).
CREATE TABLE vs_attendance (
    lesson_id INTEGER NOT NULL REFERENCES vs_lessons (id),
    student_id INTEGER NOT NULL REFERENCES people (id),
    status TEXT NOT NULL CHECK (status IN ('present', 'absent', 'late', 'excluded')),
    late_minutes INTEGER NOT NULL DEFAULT 0 CHECK (late_minutes BETWEEN 0 AND 600),
    remark TEXT NOT NULL DEFAULT '',
    by TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (lesson_id, student_id)
) STRICT;
CREATE INDEX vs_attendance_student ON vs_attendance (student_id);

-- Every change of a roll entry: who, when, before, after (JSON).
CREATE TABLE vs_attendance_history (
    id INTEGER PRIMARY KEY,
    lesson_id INTEGER NOT NULL,
    student_id INTEGER NOT NULL,
    by TEXT NOT NULL,
    at TEXT NOT NULL,
    before TEXT,
    after TEXT NOT NULL
) STRICT;

CREATE TABLE vs_reasons (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    -- Whether an accepted justification with this reason makes the
    -- absence justified (a "convenance personnelle" may not).
    justifies INTEGER NOT NULL DEFAULT 1
) STRICT;
INSERT INTO vs_reasons (code, label, justifies) VALUES
    ('MAL', 'Maladie', 1),
    ('MED', 'Rendez-vous médical', 1),
    ('FAM', 'Raison familiale', 1),
    ('TRA', 'Problème de transport', 1),
    ('CON', 'Convenance personnelle', 0),
    ('AUT', 'Autre', 1);

-- An absence spanning lessons or days (from the rolls, or declared).
CREATE TABLE vs_absence_events (
    id INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES people (id),
    starts TEXT NOT NULL,
    ends TEXT NOT NULL,
    reason_code TEXT REFERENCES vs_reasons (code),
    comment TEXT NOT NULL DEFAULT '',
    -- none, received, accepted, refused (the latest justification's).
    justification TEXT NOT NULL DEFAULT 'none'
        CHECK (justification IN ('none', 'received', 'accepted', 'refused')),
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    CHECK (starts < ends)
) STRICT;
CREATE INDEX vs_absence_events_student ON vs_absence_events (student_id, starts);

-- Files stored on the appliance (homework, justifications, messages).
CREATE TABLE vs_attachments (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- Relative to the attachments directory.
    path TEXT NOT NULL UNIQUE,
    media_type TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    by TEXT NOT NULL,
    at TEXT NOT NULL
) STRICT;

-- A justification sent by a parent (or entered by the office).
CREATE TABLE vs_justifications (
    id INTEGER PRIMARY KEY,
    event_id INTEGER NOT NULL REFERENCES vs_absence_events (id),
    by_person INTEGER NOT NULL REFERENCES people (id),
    reason_code TEXT NOT NULL REFERENCES vs_reasons (code),
    comment TEXT NOT NULL DEFAULT '',
    attachment_id INTEGER REFERENCES vs_attachments (id),
    state TEXT NOT NULL DEFAULT 'received' CHECK (state IN ('received', 'accepted', 'refused')),
    decided_by TEXT,
    decided_at TEXT,
    created_at TEXT NOT NULL
) STRICT;

-- The homework log (cahier de textes), per lesson.
CREATE TABLE vs_homework (
    id INTEGER PRIMARY KEY,
    lesson_id INTEGER NOT NULL REFERENCES vs_lessons (id),
    done TEXT NOT NULL DEFAULT '',
    homework TEXT NOT NULL DEFAULT '',
    due_date TEXT,
    by TEXT NOT NULL,
    at TEXT NOT NULL
) STRICT;
CREATE INDEX vs_homework_due ON vs_homework (due_date);
CREATE TABLE vs_homework_attachments (
    homework_id INTEGER NOT NULL REFERENCES vs_homework (id) ON DELETE CASCADE,
    attachment_id INTEGER NOT NULL REFERENCES vs_attachments (id),
    PRIMARY KEY (homework_id, attachment_id)
) STRICT;

-- Messages in threads; deliver_at is after the quiet period when written
-- during it.
CREATE TABLE vs_threads (
    id INTEGER PRIMARY KEY,
    subject TEXT NOT NULL,
    created_by INTEGER NOT NULL REFERENCES people (id),
    created_at TEXT NOT NULL
) STRICT;
CREATE TABLE vs_messages (
    id INTEGER PRIMARY KEY,
    thread_id INTEGER NOT NULL REFERENCES vs_threads (id),
    author_id INTEGER NOT NULL REFERENCES people (id),
    body TEXT NOT NULL,
    written_at TEXT NOT NULL,
    deliver_at TEXT NOT NULL,
    attachment_id INTEGER REFERENCES vs_attachments (id)
) STRICT;
CREATE TABLE vs_recipients (
    message_id INTEGER NOT NULL REFERENCES vs_messages (id),
    person_id INTEGER NOT NULL REFERENCES people (id),
    read_at TEXT,
    notified_at TEXT,
    PRIMARY KEY (message_id, person_id)
) STRICT;
CREATE INDEX vs_recipients_person ON vs_recipients (person_id);

-- Grades. kind: counts, optional (counts only when it raises the
-- average), bonus (only the points above the middle of the scale).
CREATE TABLE vs_evaluations (
    id INTEGER PRIMARY KEY,
    period_id INTEGER NOT NULL REFERENCES vs_periods (id),
    teacher_id INTEGER NOT NULL REFERENCES people (id),
    subject_code TEXT NOT NULL,
    structure_id INTEGER NOT NULL REFERENCES structures (id),
    title TEXT NOT NULL,
    date TEXT NOT NULL,
    coefficient INTEGER NOT NULL CHECK (coefficient BETWEEN 0 AND 9900),
    out_of INTEGER NOT NULL CHECK (out_of > 0),
    kind TEXT NOT NULL DEFAULT 'counts' CHECK (kind IN ('counts', 'optional', 'bonus')),
    publish_students_at TEXT NOT NULL,
    publish_parents_at TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;
CREATE INDEX vs_evaluations_period ON vs_evaluations (period_id, structure_id);

CREATE TABLE vs_marks (
    evaluation_id INTEGER NOT NULL REFERENCES vs_evaluations (id),
    student_id INTEGER NOT NULL REFERENCES people (id),
    value INTEGER CHECK (value >= 0),
    special TEXT CHECK (special IN ('ABS', 'DISP', 'NN', 'NR')),
    by TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (evaluation_id, student_id),
    CHECK ((value IS NULL) <> (special IS NULL))
) STRICT;
CREATE INDEX vs_marks_student ON vs_marks (student_id);
CREATE TABLE vs_marks_history (
    id INTEGER PRIMARY KEY,
    evaluation_id INTEGER NOT NULL,
    student_id INTEGER NOT NULL,
    by TEXT NOT NULL,
    at TEXT NOT NULL,
    before TEXT,
    after TEXT
) STRICT;

-- Subject coefficients of a class's overall average, and per-student
-- overrides.
CREATE TABLE vs_subject_coefficients (
    class_id INTEGER NOT NULL REFERENCES structures (id),
    subject_code TEXT NOT NULL,
    coefficient INTEGER NOT NULL CHECK (coefficient BETWEEN 0 AND 9900),
    PRIMARY KEY (class_id, subject_code)
) STRICT;
CREATE TABLE vs_student_coefficients (
    student_id INTEGER NOT NULL REFERENCES people (id),
    subject_code TEXT NOT NULL,
    coefficient INTEGER NOT NULL CHECK (coefficient BETWEEN 0 AND 9900),
    PRIMARY KEY (student_id, subject_code)
) STRICT;

-- A coefficient changed once marks existed: shown to the class.
CREATE TABLE vs_coefficient_changes (
    id INTEGER PRIMARY KEY,
    evaluation_id INTEGER REFERENCES vs_evaluations (id),
    class_id INTEGER REFERENCES structures (id),
    subject_code TEXT,
    before INTEGER NOT NULL,
    after INTEGER NOT NULL,
    by TEXT NOT NULL,
    at TEXT NOT NULL
) STRICT;

-- Competences: the socle's eight components and subject competences,
-- positioned on four levels.
CREATE TABLE vs_competences (
    code TEXT PRIMARY KEY,
    label TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('socle', 'subject')),
    subject_code TEXT
) STRICT;
INSERT INTO vs_competences (code, label, kind) VALUES
    ('CPD_FRA', 'Comprendre, s''exprimer en utilisant la langue française à l''oral et à l''écrit', 'socle'),
    ('CPD_ETR', 'Comprendre, s''exprimer en utilisant une langue étrangère et, le cas échéant, une langue régionale', 'socle'),
    ('CPD_SCI', 'Comprendre, s''exprimer en utilisant les langages mathématiques, scientifiques et informatiques', 'socle'),
    ('CPD_ART', 'Comprendre, s''exprimer en utilisant les langages des arts et du corps', 'socle'),
    ('MET_APP', 'Les méthodes et outils pour apprendre', 'socle'),
    ('FRM_CIT', 'La formation de la personne et du citoyen', 'socle'),
    ('SYS_NAT', 'Les systèmes naturels et les systèmes techniques', 'socle'),
    ('REP_MND', 'Les représentations du monde et l''activité humaine', 'socle');
CREATE TABLE vs_competence_levels (
    id INTEGER PRIMARY KEY,
    student_id INTEGER NOT NULL REFERENCES people (id),
    competence_code TEXT NOT NULL REFERENCES vs_competences (code),
    period_id INTEGER NOT NULL REFERENCES vs_periods (id),
    -- 0 for a positioning over the whole period.
    evaluation_id INTEGER NOT NULL DEFAULT 0,
    level INTEGER NOT NULL CHECK (level BETWEEN 1 AND 4),
    by TEXT NOT NULL,
    at TEXT NOT NULL,
    UNIQUE (student_id, competence_code, period_id, evaluation_id)
) STRICT;

-- Report cards: comments (subject_code '' is the head teacher's general
-- comment), the class council's decision, and frozen copies.
CREATE TABLE vs_report_comments (
    period_id INTEGER NOT NULL REFERENCES vs_periods (id),
    student_id INTEGER NOT NULL REFERENCES people (id),
    subject_code TEXT NOT NULL,
    author_id INTEGER NOT NULL REFERENCES people (id),
    comment TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (period_id, student_id, subject_code)
) STRICT;
CREATE TABLE vs_council (
    period_id INTEGER NOT NULL REFERENCES vs_periods (id),
    student_id INTEGER NOT NULL REFERENCES people (id),
    decision TEXT NOT NULL,
    mention TEXT NOT NULL DEFAULT '',
    by TEXT NOT NULL,
    at TEXT NOT NULL,
    PRIMARY KEY (period_id, student_id)
) STRICT;
CREATE TABLE vs_closures (
    period_id INTEGER NOT NULL REFERENCES vs_periods (id),
    class_id INTEGER NOT NULL REFERENCES structures (id),
    closed_by TEXT NOT NULL,
    closed_at TEXT NOT NULL,
    PRIMARY KEY (period_id, class_id)
) STRICT;
-- The immutable copy of a closed report card (JSON as rendered).
CREATE TABLE vs_report_cards (
    period_id INTEGER NOT NULL REFERENCES vs_periods (id),
    student_id INTEGER NOT NULL REFERENCES people (id),
    class_id INTEGER NOT NULL REFERENCES structures (id),
    frozen_at TEXT NOT NULL,
    content TEXT NOT NULL,
    PRIMARY KEY (period_id, student_id)
) STRICT;
CREATE TRIGGER vs_report_cards_immutable_update BEFORE UPDATE ON vs_report_cards
BEGIN SELECT RAISE(ABORT, 'a closed report card is immutable'); END;
CREATE TRIGGER vs_report_cards_immutable_delete BEFORE DELETE ON vs_report_cards
BEGIN SELECT RAISE(ABORT, 'a closed report card is immutable'); END;
