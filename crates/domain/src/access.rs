//! Roles and unit scope. Unit staff and managers see and act only on the reports that are
//! with their unit now; everything else answers "not found", so a unit cannot even learn
//! that another unit's report exists.

use serde::{Deserialize, Serialize};

use crate::procedure::Action;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    Triage,
    UnitManager,
    UnitStaff,
    Supervisor,
    Oversight,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Admin,
        Role::Triage,
        Role::UnitManager,
        Role::UnitStaff,
        Role::Supervisor,
        Role::Oversight,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Triage => "triage",
            Role::UnitManager => "unit_manager",
            Role::UnitStaff => "unit_staff",
            Role::Supervisor => "supervisor",
            Role::Oversight => "oversight",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }

    pub fn label_vi(self) -> &'static str {
        match self {
            Role::Admin => "Quản trị hệ thống",
            Role::Triage => "Điều phối viên tổng đài",
            Role::UnitManager => "Lãnh đạo đơn vị",
            Role::UnitStaff => "Cán bộ đơn vị",
            Role::Supervisor => "Giám sát thành phố",
            Role::Oversight => "Mặt trận Tổ quốc (giám sát)",
        }
    }

    pub fn label_en(self) -> &'static str {
        match self {
            Role::Admin => "Administrator",
            Role::Triage => "Triage operator",
            Role::UnitManager => "Unit manager",
            Role::UnitStaff => "Unit staff",
            Role::Supervisor => "City supervisor",
            Role::Oversight => "Fatherland Front (oversight)",
        }
    }

    /// Whether this role may change anything at all. Oversight reads everything and
    /// writes nothing: no filing, no action, no note, no reply, no administration.
    pub fn can_write(self) -> bool {
        !matches!(self, Role::Oversight)
    }

    /// Roles bound to one unit.
    pub fn needs_unit(self) -> bool {
        matches!(self, Role::UnitManager | Role::UnitStaff)
    }
}

/// The signed-in staff member.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    pub unit: Option<String>,
}

impl Principal {
    /// Whether this person may see a report that is with `report_unit`.
    pub fn can_view(&self, report_unit: &str) -> bool {
        match self.role {
            Role::Admin | Role::Triage | Role::Supervisor | Role::Oversight => true,
            Role::UnitManager | Role::UnitStaff => self.unit.as_deref() == Some(report_unit),
        }
    }

    /// Whether this person may see reporters' personal data (name, phone, email) of the
    /// reports they can view: those who contact citizens, not supervisors or oversight.
    pub fn sees_personal_data(&self) -> bool {
        matches!(
            self.role,
            Role::Admin | Role::Triage | Role::UnitManager | Role::UnitStaff
        )
    }

    /// The unit whose reports this person is limited to, if any.
    pub fn scope(&self) -> Option<&str> {
        if self.role.needs_unit() {
            // A unit role with no unit sees nothing: scope to an impossible unit.
            Some(self.unit.as_deref().unwrap_or("\u{0}"))
        } else {
            None
        }
    }

    /// Whether this person may file reports (for a citizen who called, wrote or came in, or
    /// through the JSON API with a staff session). Oversight may not.
    pub fn can_file_reports(&self) -> bool {
        matches!(
            self.role,
            Role::Admin | Role::Triage | Role::Supervisor | Role::UnitManager | Role::UnitStaff
        )
    }

    /// Whether this person may file a report for another channel than the web (the hotline,
    /// a letter, a message from the unfiled queue): the operators.
    pub fn can_file_for_channel(&self) -> bool {
        matches!(self.role, Role::Triage | Role::Admin)
    }

    /// Whether this person works the hotline screen and the unfiled queue.
    pub fn can_use_hotline(&self) -> bool {
        matches!(self.role, Role::Triage | Role::Admin)
    }

    /// Whether this person administers the system: units, fields, routing rules, staff
    /// accounts and their passwords, the calendar, API keys and the outbox.
    pub fn can_admin(&self) -> bool {
        self.role == Role::Admin
    }

    /// Whether this person may moderate what the public sees of a report that is with
    /// `report_unit`: the triage desk and administrators for every report, a unit's
    /// managers and staff for their own unit's.
    pub fn can_moderate(&self, report_unit: &str) -> bool {
        match self.role {
            Role::Admin | Role::Triage => true,
            Role::UnitManager | Role::UnitStaff => self.can_view(report_unit),
            Role::Supervisor | Role::Oversight => false,
        }
    }

    /// Whether this person sees the moderation queue (for every unit, or their own).
    pub fn can_use_moderation_queue(&self) -> bool {
        matches!(
            self.role,
            Role::Admin | Role::Triage | Role::UnitManager | Role::UnitStaff
        )
    }

    /// Whether this person works the triage desk (reports no routing rule placed).
    pub fn can_use_triage_desk(&self) -> bool {
        matches!(self.role, Role::Triage | Role::Admin | Role::Supervisor)
    }

    /// Whether this person sees the units' performance dashboard: all units for the city's
    /// supervisors, administrators and the oversight body, their own for a unit manager.
    pub fn can_see_performance(&self) -> bool {
        self.performance_scope().is_some()
    }

    /// Whose performance figures this person sees: `Some(None)` for every unit,
    /// `Some(Some(unit))` for one unit, `None` for none.
    pub fn performance_scope(&self) -> Option<Option<&str>> {
        match self.role {
            Role::Supervisor | Role::Admin | Role::Oversight => Some(None),
            Role::UnitManager => Some(Some(self.scope().unwrap_or_default())),
            Role::Triage | Role::UnitStaff => None,
        }
    }

    /// Whether this person may change anything at all (see [`Role::can_write`]).
    pub fn can_write(&self) -> bool {
        self.role.can_write()
    }

    /// Whether this person may upload photos (for a resolution, or a report they file).
    pub fn can_upload_photos(&self) -> bool {
        self.role.can_write()
    }

    /// Whether this person may take `action` on a report that is with `report_unit`
    /// (the procedure still decides whether the action fits the report's status).
    pub fn can_act(&self, action: Action, report_unit: &str) -> bool {
        use Action::*;
        if !self.can_view(report_unit) {
            return false;
        }
        if !self.role.can_write() {
            return false;
        }
        match self.role {
            Role::Oversight => false,
            // Rating is the citizen's word; no staff role gives it.
            _ if action == Rate => false,
            Role::Admin | Role::Supervisor => true,
            Role::Triage => matches!(
                action,
                Assign
                    | Reject
                    | Close
                    | Reopen
                    | ProvideInfo
                    | Transfer
                    | Comment
                    | MarkUrgent
                    | MarkDuplicate
                    | UndoDuplicate
            ),
            Role::UnitManager => !matches!(action, Assign | Close | Reopen),
            Role::UnitStaff => matches!(
                action,
                Start
                    | RequestInfo
                    | ProvideInfo
                    | Resolve
                    | ReturnToTriage
                    | Comment
                    | MarkUrgent
                    | MarkDuplicate
                    | UndoDuplicate
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(role: Role, unit: Option<&str>) -> Principal {
        Principal {
            user_id: 1,
            name: "x".into(),
            role,
            unit: unit.map(Into::into),
        }
    }

    #[test]
    fn no_staff_role_rates_for_the_citizen() {
        for role in [
            Role::Admin,
            Role::Supervisor,
            Role::Triage,
            Role::UnitManager,
            Role::UnitStaff,
            Role::Oversight,
        ] {
            assert!(
                !p(role, Some("SXD")).can_act(Action::Rate, "SXD"),
                "{role:?}"
            );
        }
    }

    #[test]
    fn unit_roles_are_scoped_to_their_unit() {
        let staff = p(Role::UnitStaff, Some("SXD"));
        assert!(staff.can_view("SXD"));
        assert!(!staff.can_view("SAWACO"));
        assert!(!staff.can_act(Action::Resolve, "SAWACO"));
        assert!(staff.can_act(Action::Resolve, "SXD"));
        assert!(!staff.can_act(Action::Transfer, "SXD"));
        assert!(p(Role::UnitManager, Some("SXD")).can_act(Action::Transfer, "SXD"));
        assert!(!p(Role::UnitStaff, None).can_view("SXD"));
    }

    /// The whole table of named permissions, role by role: a change to who may do what
    /// shows up here.
    #[test]
    fn permission_table() {
        // role: admin, triage desk, hotline, performance, file reports, file for a channel,
        // upload photos, write, personal data
        let table = [
            (
                Role::Admin,
                [true, true, true, true, true, true, true, true, true],
            ),
            (
                Role::Triage,
                [false, true, true, false, true, true, true, true, true],
            ),
            (
                Role::UnitManager,
                [false, false, false, true, true, false, true, true, true],
            ),
            (
                Role::UnitStaff,
                [false, false, false, false, true, false, true, true, true],
            ),
            (
                Role::Supervisor,
                [false, true, false, true, true, false, true, true, false],
            ),
            (
                Role::Oversight,
                [false, false, false, true, false, false, false, false, false],
            ),
        ];
        assert_eq!(table.len(), Role::ALL.len());
        for (role, expected) in table {
            let who = p(role, role.needs_unit().then_some("SXD"));
            let got = [
                who.can_admin(),
                who.can_use_triage_desk(),
                who.can_use_hotline(),
                who.can_see_performance(),
                who.can_file_reports(),
                who.can_file_for_channel(),
                who.can_upload_photos(),
                who.can_write(),
                who.sees_personal_data(),
            ];
            assert_eq!(got, expected, "{role:?}");
        }
    }

    #[test]
    fn duplicates_are_merged_by_the_desk_the_unit_that_has_it_and_managers_not_oversight() {
        for a in [Action::MarkDuplicate, Action::UndoDuplicate] {
            for role in [
                Role::Admin,
                Role::Triage,
                Role::Supervisor,
                Role::UnitManager,
                Role::UnitStaff,
            ] {
                assert!(p(role, Some("SXD")).can_act(a, "SXD"), "{role:?} {a:?}");
            }
            assert!(!p(Role::UnitStaff, Some("SXD")).can_act(a, "SAWACO"));
            assert!(!p(Role::UnitManager, Some("SXD")).can_act(a, "SAWACO"));
            assert!(!p(Role::Oversight, None).can_act(a, "SXD"));
        }
    }

    #[test]
    fn performance_is_scoped_like_reports() {
        assert_eq!(p(Role::Supervisor, None).performance_scope(), Some(None));
        assert_eq!(p(Role::Admin, None).performance_scope(), Some(None));
        assert_eq!(p(Role::Oversight, None).performance_scope(), Some(None));
        assert_eq!(
            p(Role::UnitManager, Some("SXD")).performance_scope(),
            Some(Some("SXD"))
        );
        // A manager with no unit sees an impossible unit, not every unit.
        assert_eq!(
            p(Role::UnitManager, None).performance_scope(),
            Some(Some("\u{0}"))
        );
        assert_eq!(p(Role::UnitStaff, Some("SXD")).performance_scope(), None);
        assert_eq!(p(Role::Triage, None).performance_scope(), None);
    }

    #[test]
    fn oversight_sees_everything_and_does_nothing() {
        let o = p(Role::Oversight, None);
        assert!(!Role::Oversight.can_write());
        assert!(!o.can_file_reports() && !o.can_file_for_channel() && !o.can_use_hotline());
        assert!(!o.can_upload_photos());
        for role in Role::ALL.into_iter().filter(|r| *r != Role::Oversight) {
            assert!(role.can_write(), "{role:?}");
            assert!(p(role, Some("SXD")).can_file_reports(), "{role:?}");
        }
        assert!(o.can_view("ANY"));
        for a in Action::ALL {
            assert!(!o.can_act(a, "ANY"));
        }
    }
}
