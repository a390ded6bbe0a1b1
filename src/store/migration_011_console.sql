-- The console's people search: one full-text row per person (rowid = the
-- person's id) with names, login and the codes of their classes and
-- groups, folded for case and accents by the unicode61 tokenizer; prefix
-- indexes for the first letters typed. Kept up to date by triggers on
-- people, memberships and structures, whatever writes them (import,
-- CLI, console).
CREATE VIRTUAL TABLE people_search USING fts5 (
    words,
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);

INSERT INTO people_search (rowid, words)
    SELECT p.id, p.first_name || ' ' || p.last_name || ' ' || p.login || ' ' ||
           coalesce((SELECT group_concat(s.code, ' ') FROM memberships m
                     JOIN structures s ON s.id = m.structure_id WHERE m.person_id = p.id), '')
      FROM people p;

CREATE TRIGGER people_search_insert AFTER INSERT ON people BEGIN
    INSERT INTO people_search (rowid, words)
        VALUES (new.id, new.first_name || ' ' || new.last_name || ' ' || new.login);
END;

CREATE TRIGGER people_search_update AFTER UPDATE OF first_name, last_name, login ON people BEGIN
    DELETE FROM people_search WHERE rowid = old.id;
    INSERT INTO people_search (rowid, words)
        SELECT new.id, new.first_name || ' ' || new.last_name || ' ' || new.login || ' ' ||
               coalesce((SELECT group_concat(s.code, ' ') FROM memberships m
                         JOIN structures s ON s.id = m.structure_id WHERE m.person_id = new.id), '');
END;

CREATE TRIGGER people_search_delete AFTER DELETE ON people BEGIN
    DELETE FROM people_search WHERE rowid = old.id;
END;

CREATE TRIGGER people_search_join AFTER INSERT ON memberships BEGIN
    DELETE FROM people_search WHERE rowid = new.person_id;
    INSERT INTO people_search (rowid, words)
        SELECT p.id, p.first_name || ' ' || p.last_name || ' ' || p.login || ' ' ||
               coalesce((SELECT group_concat(s.code, ' ') FROM memberships m
                         JOIN structures s ON s.id = m.structure_id WHERE m.person_id = p.id), '')
          FROM people p WHERE p.id = new.person_id;
END;

CREATE TRIGGER people_search_leave AFTER DELETE ON memberships BEGIN
    DELETE FROM people_search WHERE rowid = old.person_id;
    INSERT INTO people_search (rowid, words)
        SELECT p.id, p.first_name || ' ' || p.last_name || ' ' || p.login || ' ' ||
               coalesce((SELECT group_concat(s.code, ' ') FROM memberships m
                         JOIN structures s ON s.id = m.structure_id WHERE m.person_id = p.id), '')
          FROM people p WHERE p.id = old.person_id;
END;

CREATE TRIGGER people_search_recode AFTER UPDATE OF code ON structures BEGIN
    DELETE FROM people_search WHERE rowid IN (SELECT person_id FROM memberships WHERE structure_id = new.id);
    INSERT INTO people_search (rowid, words)
        SELECT p.id, p.first_name || ' ' || p.last_name || ' ' || p.login || ' ' ||
               coalesce((SELECT group_concat(s.code, ' ') FROM memberships m
                         JOIN structures s ON s.id = m.structure_id WHERE m.person_id = p.id), '')
          FROM people p WHERE p.id IN (SELECT person_id FROM memberships WHERE structure_id = new.id);
END;
