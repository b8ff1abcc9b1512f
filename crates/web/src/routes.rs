//! Route declarations that remember what they declare.
//!
//! axum's `Router` cannot list its routes, but the security suite must know exactly what the
//! binary serves (the role × route matrix in crates/server/tests/it/security/matrix.rs fails
//! when a route has no row). Every module therefore declares its routes through [`Routes`]
//! and the [`get`]/[`post`]/… functions of this module, which mirror axum's and record each
//! (method, path) as they add it to the router. [`crate::route_table`] returns the list.

use std::convert::Infallible;

use axum::Router;
use axum::extract::Request;
use axum::handler::Handler;
use axum::response::IntoResponse;
use axum::routing::{MethodRouter, Route};
use tower::{Layer, Service};

use crate::AppState;

/// A router and the (method, path) pairs it serves.
#[must_use]
pub struct Routes {
    router: Router<AppState>,
    table: Vec<(&'static str, &'static str)>,
}

impl Default for Routes {
    fn default() -> Self {
        Routes::new()
    }
}

impl Routes {
    pub fn new() -> Routes {
        Routes {
            router: Router::new(),
            table: Vec::new(),
        }
    }

    pub fn route(mut self, path: &'static str, methods: Methods) -> Routes {
        for m in &methods.methods {
            self.table.push((m, path));
        }
        self.router = self.router.route(path, methods.router);
        self
    }

    pub fn merge(mut self, other: Routes) -> Routes {
        self.table.extend(other.table);
        self.router = self.router.merge(other.router);
        self
    }

    /// A layer around every route declared so far (like `Router::layer`).
    pub fn layer<L>(mut self, layer: L) -> Routes
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }

    pub fn into_router(self) -> Router<AppState> {
        self.router
    }

    /// The (method, path) pairs, method in upper case, path as declared (`{param}`).
    pub fn table(&self) -> Vec<(&'static str, &'static str)> {
        self.table.clone()
    }
}

/// The handlers of one path, and the methods they answer.
#[must_use]
pub struct Methods {
    router: MethodRouter<AppState>,
    methods: Vec<&'static str>,
}

macro_rules! method {
    ($free:ident, $chained:ident, $name:literal) => {
        pub fn $free<H, T>(handler: H) -> Methods
        where
            H: Handler<T, AppState>,
            T: 'static,
        {
            Methods {
                router: axum::routing::$free(handler),
                methods: vec![$name],
            }
        }

        impl Methods {
            pub fn $chained<H, T>(mut self, handler: H) -> Methods
            where
                H: Handler<T, AppState>,
                T: 'static,
            {
                self.router = self.router.$chained(handler);
                self.methods.push($name);
                self
            }
        }
    };
}

method!(get, get, "GET");
method!(post, post, "POST");
method!(put, put, "PUT");
method!(delete, delete, "DELETE");
method!(patch, patch, "PATCH");

impl Methods {
    /// A layer around these handlers (like `MethodRouter::layer`).
    pub fn layer<L>(mut self, layer: L) -> Methods
    where
        L: Layer<Route> + Clone + Send + Sync + 'static,
        L::Service: Service<Request> + Clone + Send + Sync + 'static,
        <L::Service as Service<Request>>::Response: IntoResponse + 'static,
        <L::Service as Service<Request>>::Error: Into<Infallible> + 'static,
        <L::Service as Service<Request>>::Future: Send + 'static,
    {
        self.router = self.router.layer(layer);
        self
    }
}
