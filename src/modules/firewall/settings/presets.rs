//! The presets: 2, 3 or 4 zones with their interfaces, services and
//! policies, the starting point the file completes or overrides.

use super::*;

/// The presets' names.
pub const PRESETS: [&str; 3] = ["2-zones", "3-zones", "4-zones"];

pub(super) struct PresetZone {
    pub(super) name: &'static str,
    pub(super) interface: &'static str,
    pub(super) services: &'static [Service],
    pub(super) web: WebMode,
}

/// A preset: its zones and its policies (from, to, action).
pub(super) type Preset = (Vec<PresetZone>, Vec<(&'static str, &'static str, Action)>);

pub(super) fn preset(name: &str) -> Option<Preset> {
    use Action::*;
    use Service::*;
    let outside = PresetZone {
        name: "outside",
        interface: "eth0",
        services: &[],
        web: WebMode::Direct,
    };
    let internal_all: &[Service] = &[Console, Viescolaire, Smb, Proxy, Ssh, Dns, Dhcp];
    let teaching = PresetZone {
        name: "teaching",
        interface: "eth1",
        services: &[Viescolaire, Smb, Proxy, Dns, Dhcp],
        web: WebMode::Redirect,
    };
    let admin = PresetZone {
        name: "admin",
        interface: "eth2",
        services: internal_all,
        web: WebMode::Direct,
    };
    match name {
        "2-zones" => Some((
            vec![
                outside,
                PresetZone {
                    name: "inside",
                    interface: "eth1",
                    services: internal_all,
                    web: WebMode::Direct,
                },
            ],
            vec![("inside", "outside", Accept), ("outside", "inside", Drop)],
        )),
        "3-zones" => Some((
            vec![outside, teaching, admin],
            vec![
                ("teaching", "outside", Accept),
                ("admin", "outside", Accept),
                ("admin", "teaching", Accept),
                ("teaching", "admin", Reject),
                ("outside", "teaching", Drop),
                ("outside", "admin", Drop),
            ],
        )),
        "4-zones" => Some((
            vec![
                outside,
                teaching,
                admin,
                PresetZone {
                    name: "dmz",
                    interface: "eth3",
                    services: &[Dns],
                    web: WebMode::Direct,
                },
            ],
            vec![
                ("teaching", "outside", Accept),
                ("admin", "outside", Accept),
                ("admin", "teaching", Accept),
                ("admin", "dmz", Accept),
                ("teaching", "dmz", Accept),
                ("dmz", "outside", Accept),
                ("teaching", "admin", Reject),
                ("dmz", "teaching", Reject),
                ("dmz", "admin", Reject),
                ("outside", "teaching", Drop),
                ("outside", "admin", Drop),
                ("outside", "dmz", Drop),
            ],
        )),
        _ => None,
    }
}
