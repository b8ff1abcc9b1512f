//! A small document tree that renders as Open311 JSON or XML: the two formats carry the
//! same data, with XML naming each list item.

use quick_xml::Writer;
use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub enum Node {
    Str(String),
    Num(f64),
    Int(i64),
    Bool(bool),
    Null,
    /// A list whose XML items are elements named `item`.
    List {
        item: &'static str,
        items: Vec<Node>,
    },
    Obj(Vec<(&'static str, Node)>),
}

impl Node {
    pub fn str(s: impl Into<String>) -> Node {
        Node::Str(s.into())
    }

    pub fn opt(s: Option<impl Into<String>>) -> Node {
        s.map(|s| Node::Str(s.into())).unwrap_or(Node::Null)
    }

    pub fn to_json(&self) -> Value {
        match self {
            Node::Str(s) => Value::String(s.clone()),
            Node::Num(n) => serde_json::Number::from_f64(*n)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            Node::Int(n) => Value::from(*n),
            Node::Bool(b) => Value::Bool(*b),
            Node::Null => Value::Null,
            Node::List { items, .. } => Value::Array(items.iter().map(Node::to_json).collect()),
            Node::Obj(fields) => {
                let mut m = Map::new();
                for (k, v) in fields {
                    m.insert((*k).to_string(), v.to_json());
                }
                Value::Object(m)
            }
        }
    }

    /// The XML document with `root` as its root element.
    pub fn to_xml(&self, root: &str) -> Vec<u8> {
        let mut w = Writer::new(Vec::new());
        let _ = w.write_event(Event::Decl(BytesDecl::new("1.0", Some("utf-8"), None)));
        write(&mut w, root, self);
        w.into_inner()
    }
}

fn write(w: &mut Writer<Vec<u8>>, name: &str, node: &Node) {
    let text = match node {
        Node::Str(s) => Some(s.clone()),
        Node::Num(n) => Some(n.to_string()),
        Node::Int(n) => Some(n.to_string()),
        Node::Bool(b) => Some(b.to_string()),
        Node::Null => {
            let _ = w.write_event(Event::Empty(BytesStart::new(name)));
            return;
        }
        _ => None,
    };
    let _ = w.write_event(Event::Start(BytesStart::new(name)));
    match (node, text) {
        (_, Some(t)) => {
            let _ = w.write_event(Event::Text(BytesText::new(&t)));
        }
        (Node::List { item, items }, None) => {
            for i in items {
                write(w, item, i);
            }
        }
        (Node::Obj(fields), None) => {
            for (k, v) in fields {
                write(w, k, v);
            }
        }
        _ => {}
    }
    let _ = w.write_event(Event::End(BytesEnd::new(name)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_both_formats() {
        let doc = Node::List {
            item: "request",
            items: vec![Node::Obj(vec![
                ("service_request_id", Node::str("A&B <1>")),
                ("lat", Node::Num(10.5)),
                ("media_url", Node::Null),
            ])],
        };
        assert_eq!(
            doc.to_json(),
            serde_json::json!([{"service_request_id": "A&B <1>", "lat": 10.5, "media_url": null}])
        );
        let xml = String::from_utf8(doc.to_xml("service_requests")).unwrap();
        assert_eq!(
            xml,
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><service_requests><request><service_request_id>A&amp;B &lt;1&gt;</service_request_id><lat>10.5</lat><media_url/></request></service_requests>"
        );
    }
}
