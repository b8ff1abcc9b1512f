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
    pub fn can_take_calls(&self) -> bool {
        matches!(self.role, Role::Triage | Role::Admin)
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
                Assign | Reject | Close | Reopen | ProvideInfo | Transfer | Comment
            ),
            Role::UnitManager => !matches!(action, Assign | Close | Reopen),
            Role::UnitStaff => matches!(
                action,
                Start | RequestInfo | ProvideInfo | Resolve | ReturnToTriage | Comment
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

    #[test]
    fn oversight_sees_everything_and_does_nothing() {
        let o = p(Role::Oversight, None);
        assert!(!Role::Oversight.can_write());
        assert!(!o.can_file_reports() && !o.can_file_for_channel() && !o.can_take_calls());
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
