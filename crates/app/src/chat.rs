//! What the chat conversation needs from the city's catalog.

use phananh_channels::conversation::FieldChoice;

use crate::Catalog;

/// The fields a citizen can choose in a chat, with their folded keywords.
pub fn field_choices(catalog: &Catalog) -> Vec<FieldChoice> {
    catalog
        .fields
        .iter()
        .map(|f| FieldChoice {
            code: f.code.clone(),
            name_vi: f.name_vi.clone(),
            name_en: f.name_en.clone(),
            keywords: f.keywords.clone(),
        })
        .collect()
}

/// A typed address → (ward code, ward name), when it names a ward of the city.
pub fn ward_in_address(catalog: &Catalog, address: &str) -> Option<(String, String)> {
    let code = catalog.ward_names.find_in_address(address)?;
    let name = catalog.ward_name(&code);
    Some((code, name))
}
