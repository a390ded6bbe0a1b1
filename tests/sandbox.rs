//! The root-test sandbox keeps the host untouched.

mod support;

#[test]
#[ignore = "needs root"]
fn sandbox_isolates_accounts_hostname_and_network() {
    let sb = support::Sandbox::new_for("sandbox_isolates_accounts_hostname_and_network");
    let user = format!("preau-sbx-{}", std::process::id());
    sb.sh(&format!(
        "useradd --no-create-home {user} && id {user} && hostname sandbox-test"
    ));
    let host_passwd = std::fs::read_to_string("/etc/passwd").unwrap();
    assert!(!host_passwd.contains(&user), "useradd leaked to the host");
    let out = sb.sh("hostname; ip -o link | wc -l");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("sandbox-test\n"), "{text}");
    assert_eq!(text.lines().nth(1), Some("1"), "only lo inside: {text}");
    let host_name = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap();
    assert_ne!(host_name.trim(), "sandbox-test");
}
