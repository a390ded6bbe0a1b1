//! `preau viescolaire …` through the binary, on the demo school's
//! directory under a temporary root.

mod support;

use support::{TempRoot, show};

fn demo_root() -> TempRoot {
    let root = TempRoot::new();
    let out = root.run(&["init"]);
    assert!(out.status.success(), "{}", show(&out));
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/modules/accounts/demo");
    let files: Vec<String> = [
        "ElevesSansAdresses.xml",
        "ResponsablesAvecAdresses.xml",
        "sts_emp_0999999X_2026.xml",
    ]
    .iter()
    .map(|f| format!("{dir}/{f}"))
    .collect();
    let mut args = vec!["accounts", "import"];
    args.extend(files.iter().map(String::as_str));
    args.push("--apply");
    let out = root.run(&args);
    assert!(out.status.success(), "{}", show(&out));
    root
}

fn json(out: &std::process::Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", show(out));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}: {}", show(out)))
}

#[test]
fn year_holidays_timetable_reports_and_lsu_export() {
    let root = demo_root();
    let out = root.run(&[
        "viescolaire",
        "year",
        "set",
        "--label",
        "2026-2027",
        "--from",
        "2026-09-01",
        "--to",
        "2027-07-04",
        "--period",
        "Trimestre 1:2026-09-01:2026-11-30",
        "--period",
        "Trimestre 2:2026-12-01:2027-03-15",
        "--period",
        "Trimestre 3:2027-03-16:2027-07-04",
        "--week-a",
        "2026-08-31",
    ]);
    assert!(out.status.success(), "{}", show(&out));
    let bad = root.run(&[
        "viescolaire",
        "year",
        "set",
        "--label",
        "x",
        "--from",
        "2026-09-01",
        "--to",
        "2026-08-01",
    ]);
    assert_eq!(bad.status.code(), Some(1), "{}", show(&bad));

    root.write(
        "/tmp/zone.ics",
        "BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART;VALUE=DATE:20261219\nDTEND;VALUE=DATE:20270104\nSUMMARY:Noël\nEND:VEVENT\nEND:VCALENDAR\n",
    );
    let ics = root.path().join("tmp/zone.ics");
    let v = json(&root.run(&[
        "--json",
        "viescolaire",
        "holidays",
        "import",
        ics.to_str().unwrap(),
    ]));
    assert_eq!(v["holidays"], 1);
    let v = json(&root.run(&["--json", "viescolaire", "year", "show"]));
    assert_eq!(v["periods"].as_array().unwrap().len(), 3);
    assert_eq!(v["holidays"][0]["label"], "Noël");

    // The maths teacher of 6A, from the directory.
    let people = json(&root.run(&["--json", "accounts", "list", "--kind", "teacher"]));
    let logins: Vec<String> = people
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["login"].as_str().unwrap().to_string())
        .collect();
    let teacher = |subject: &str| -> String {
        for l in &logins {
            let v = json(&root.run(&["--json", "accounts", "show", l]));
            if v.to_string().contains(subject) {
                return l.clone();
            }
        }
        panic!("no teacher of {subject}");
    };
    let maths = teacher("061300");
    let csv = format!(
        "teacher;subject;class;day;start;end;room;weeks\n{maths};MATHS;6A;lundi;08:00;08:55;B12;all\n{maths};MATHS;5A;mardi;09:00;09:55;B12;A\n"
    );
    root.write(
        "/tmp/edt.csv",
        &format!("{csv}{maths};MATHS;5A;lundi;08:30;09:25;B12;all\n"),
    );
    let file = root.path().join("tmp/edt.csv");
    let out = root.run(&[
        "viescolaire",
        "timetable",
        "import",
        file.to_str().unwrap(),
        "--from",
        "2026-09-01",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("edt.csv:4: room B12 is already taken"), "{err}");
    root.write("/tmp/edt.csv", &csv);
    let v = json(&root.run(&[
        "--json",
        "viescolaire",
        "timetable",
        "import",
        file.to_str().unwrap(),
        "--from",
        "2026-09-01",
    ]));
    assert_eq!(v["slots"], 2);

    // A week: Monday's lesson every week, Tuesday's in week A only
    // (2026-11-30 is a week A: 31 Aug A, then alternating, Toussaint
    // weeks not counted).
    let v = json(&root.run(&[
        "--json",
        "viescolaire",
        "timetable",
        "show",
        "--teacher",
        &maths,
        "--week",
        "2026-12-02",
    ]));
    let dates: Vec<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["date"].as_str().unwrap())
        .collect();
    assert!(dates.contains(&"2026-11-30"), "{v}");
    let v = json(&root.run(&[
        "--json",
        "viescolaire",
        "timetable",
        "show",
        "--room",
        "B12",
        "--date",
        "2026-12-21",
    ]));
    assert_eq!(v.as_array().unwrap().len(), 0, "holidays");
    let out = root.run(&[
        "viescolaire",
        "timetable",
        "show",
        "--class",
        "6A",
        "--date",
        "2026-11-30",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("08:00–08:55"),
        "{}",
        show(&out)
    );

    // Absences report, CSV and JSON.
    let out = root.run(&[
        "viescolaire",
        "absences",
        "report",
        "--class",
        "6A",
        "--from",
        "2026-11-30",
        "--to",
        "2026-12-04",
        "--csv",
    ]);
    assert!(out.status.success(), "{}", show(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("login;name;half_days;justified;unjustified;late;missed_lessons;alert\n"),
        "{text}"
    );
    assert_eq!(text.lines().count(), 27, "26 students of 6A");
    let v = json(&root.run(&[
        "--json",
        "viescolaire",
        "absences",
        "report",
        "--class",
        "6A",
        "--from",
        "2026-11-30",
        "--to",
        "2026-12-04",
    ]));
    assert_eq!(v[0]["half_days"], 0);

    // Averages: no marks yet, every average empty.
    let v = json(&root.run(&[
        "--json",
        "viescolaire",
        "averages",
        "--class",
        "6A",
        "--period",
        "1",
    ]));
    assert_eq!(v.as_array().unwrap().len(), 26);
    assert!(v[0]["overall"].is_null());

    // LSU: not closed, then closed but missing council decisions.
    let out_file = root.path().join("lsu.xml");
    let lsu = [
        "viescolaire",
        "lsu-export",
        "--class",
        "6A",
        "--period",
        "1",
        "--out",
        out_file.to_str().unwrap(),
    ];
    let out = root.run(&lsu);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not closed"));
    let v = json(&root.run(&["--json", "viescolaire", "close", "--class", "6A", "--period", "1"]));
    assert_eq!(v["closed"], 26);
    let out = root.run(&lsu);
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    // The list in French, worded as the web page words it.
    assert!(
        err.contains("Le fichier LSU ne peut pas être écrit : il manque ")
            && err.contains(" : pas de décision du conseil de classe")
            && err.contains(" : aucune matière"),
        "{err}"
    );
    let out = root.run(&[&["--json"], &lsu[..]].concat());
    assert_eq!(out.status.code(), Some(1), "{}", show(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        v["missing"].as_array().unwrap().iter().any(|m| m
            .as_str()
            .unwrap()
            .ends_with(" : pas de décision du conseil de classe")),
        "{v}"
    );
    assert!(!out_file.exists(), "nothing written");
}
