CREATE TABLE people (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('student', 'teacher', 'staff', 'parent')),
    -- Where the person comes from: siecle, sts, csv or manual.
    source TEXT NOT NULL,
    -- The stable key of the source: ELEVE_ID, PERSONNE_ID, INDIVIDU@ID, or
    -- the CSV key; NULL for people added by hand.
    national_key TEXT,
    -- INE of a student (ID_NATIONAL).
    ine TEXT,
    last_name TEXT NOT NULL,
    first_name TEXT NOT NULL,
    -- YYYY-MM-DD.
    birth_date TEXT,
    -- Staff function from STS-web (ENS, DIR, EDU, ADM, DOC...).
    function TEXT,
    email TEXT,
    login TEXT NOT NULL UNIQUE,
    -- Unix uid; NULL for parents (no system account).
    uid INTEGER UNIQUE,
    status TEXT NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'disabled', 'deleting')),
    disabled_at TEXT,
    delete_after TEXT,
    -- Argon2id PHC string, computed lazily (see directory::password).
    password_hash TEXT,
    -- NT hash (hex, upper case) for Samba.
    nt_hash TEXT,
    -- The initial password, kept only until the person sets their own, so
    -- that login sheets can be printed.
    initial_password TEXT,
    must_change INTEGER NOT NULL DEFAULT 0,
    password_changed_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;
CREATE UNIQUE INDEX people_key ON people (kind, national_key) WHERE national_key IS NOT NULL;

-- Logins once used: never given to anybody else.
CREATE TABLE logins_used (
    login TEXT PRIMARY KEY,
    person_id INTEGER,
    since TEXT NOT NULL
) STRICT;

-- Classes (divisions, STS/SIECLE TYPE_STRUCTURE D) and groups (G).
CREATE TABLE structures (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('class', 'group')),
    code TEXT NOT NULL,
    label TEXT NOT NULL,
    -- Unix group name and gid.
    group_name TEXT NOT NULL UNIQUE,
    gid INTEGER NOT NULL UNIQUE,
    -- 0 once no import mentions it any more.
    active INTEGER NOT NULL DEFAULT 1,
    UNIQUE (kind, code)
) STRICT;

-- Classes a group draws its students from (STS DIVISIONS_APPARTENANCE).
CREATE TABLE group_classes (
    group_id INTEGER NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
    class_id INTEGER NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
    PRIMARY KEY (group_id, class_id)
) STRICT;

-- A student in a class or group.
CREATE TABLE memberships (
    person_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    structure_id INTEGER NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
    PRIMARY KEY (person_id, structure_id)
) STRICT;
CREATE INDEX memberships_structure ON memberships (structure_id);

CREATE TABLE parent_links (
    parent_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    child_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    -- RESP_LEGAL: 1 or 2 for legal guardians, 0 otherwise.
    legal INTEGER NOT NULL DEFAULT 0,
    relation TEXT,
    PRIMARY KEY (parent_id, child_id)
) STRICT;
CREATE INDEX parent_links_child ON parent_links (child_id);

CREATE TABLE subjects (
    code TEXT PRIMARY KEY,
    short TEXT NOT NULL,
    label TEXT NOT NULL
) STRICT;

-- Teacher x subject x class or group, from STS-web.
CREATE TABLE services (
    teacher_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    subject_code TEXT NOT NULL,
    structure_id INTEGER NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
    PRIMARY KEY (teacher_id, subject_code, structure_id)
) STRICT;
CREATE INDEX services_structure ON services (structure_id);

-- Professeur principal of a class.
CREATE TABLE head_teachers (
    teacher_id INTEGER NOT NULL REFERENCES people (id) ON DELETE CASCADE,
    class_id INTEGER NOT NULL REFERENCES structures (id) ON DELETE CASCADE,
    PRIMARY KEY (teacher_id, class_id)
) STRICT;

CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    files TEXT NOT NULL,
    -- JSON summary of the applied diff.
    summary TEXT NOT NULL
) STRICT;
