//! The SQLite store's read connections, pooled without sqlx's pool.
//!
//! Every sqlx SQLite connection is a thread of its own that runs the statements sent to it; a
//! statement is a round trip to that thread (a futex wake each way, and on this 2-core VM each
//! wake is an inter-processor interrupt). sqlx's pool adds a second round trip to every
//! statement: when a connection goes back to the pool it sends it a `ping` from a spawned task,
//! to catch a network connection a cancelled query left half-read. That cannot be turned off,
//! and it has nothing to catch here: the other end of the connection is a thread of this
//! process, whose commands run one after the other, each answering on a channel of its own, so
//! a query given up half-way leaves nothing behind for the next one. With registrations at
//! 2,400 a second, those pings were a third of the read connections' thread switches.
//!
//! So reads go through a fixed set of connections opened at start, in a `deadpool` pool of
//! plain objects: taking one is waiting for a free one, giving it back is dropping the guard.
//! A connection whose thread died (`WorkerCrashed`, which sqlx's ping would have found) is
//! taken out and a fresh one opened in its place.

use deadpool::unmanaged::{Object, Pool as ObjectPool, PoolError};
use futures::future::BoxFuture;
use futures::stream::{self, BoxStream, StreamExt};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteQueryResult, SqliteRow, SqliteStatement,
    SqliteTypeInfo,
};
use sqlx::{ConnectOptions, Describe, Either, Error, Execute, Executor, SqlStr, Sqlite};

/// A fixed number of read connections to one SQLite file.
#[derive(Clone, Debug)]
pub(crate) struct ReadPool {
    connections: ObjectPool<SqliteConnection>,
    /// How to open a replacement for a connection whose thread died.
    options: SqliteConnectOptions,
}

impl ReadPool {
    /// Opens `size` connections with `options`.
    pub(crate) async fn open(options: SqliteConnectOptions, size: usize) -> Result<Self, Error> {
        let connections = ObjectPool::new(size);
        for _ in 0..size {
            let connection = options.connect().await?;
            connections
                .add(connection)
                .await
                .map_err(|(_, err)| pool_error(err))?;
        }
        Ok(Self {
            connections,
            options,
        })
    }

    /// A free connection, waiting for one if all are in use.
    async fn connection(&self) -> Result<Object<SqliteConnection>, Error> {
        self.connections.get().await.map_err(pool_error)
    }

    /// After a statement on `connection` failed with `error`: a connection whose thread died is
    /// replaced (in the background; the pool has one connection fewer until then).
    fn check(&self, connection: Object<SqliteConnection>, error: &Error) {
        if !matches!(error, Error::WorkerCrashed) {
            return;
        }
        drop(Object::take(connection));
        let pool = self.clone();
        tokio::spawn(async move {
            match pool.options.connect().await {
                Ok(fresh) => {
                    if let Err((_, err)) = pool.connections.add(fresh).await {
                        tracing::error!(%err, "could not return a new read connection to the pool");
                    }
                }
                Err(err) => tracing::error!(%err, "could not replace a failed read connection"),
            }
        });
    }

    /// Runs `query` on a free connection and gathers its results.
    async fn run<'q, E>(
        &self,
        query: E,
    ) -> Result<Vec<Result<Either<SqliteQueryResult, SqliteRow>, Error>>, Error>
    where
        E: 'q + Execute<'q, Sqlite>,
    {
        let mut connection = self.connection().await?;
        let results: Vec<_> = (&mut *connection).fetch_many(query).collect().await;
        if let Some(Err(error)) = results.last() {
            self.check(connection, error);
        }
        Ok(results)
    }
}

/// The sqlx error for the pool's own: closed (the store is shutting down), or no connection.
fn pool_error(error: PoolError) -> Error {
    match error {
        PoolError::Closed => Error::PoolClosed,
        _ => Error::PoolTimedOut,
    }
}

impl<'p> Executor<'p> for &'_ ReadPool {
    type Database = Sqlite;

    /// The results are gathered before they are handed out: every read of the store collects
    /// them anyway (`fetch_all`, `fetch_one`, `fetch_optional`), and the connection is free
    /// again as soon as the statement is done.
    fn fetch_many<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxStream<'e, Result<Either<SqliteQueryResult, SqliteRow>, Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Sqlite>,
    {
        let pool = self.clone();
        stream::once(async move { pool.run(query).await })
            .map(|gathered| match gathered {
                Ok(results) => stream::iter(results).left_stream(),
                Err(error) => stream::iter([Err(error)]).right_stream(),
            })
            .flatten()
            .boxed()
    }

    fn fetch_optional<'e, 'q: 'e, E>(
        self,
        query: E,
    ) -> BoxFuture<'e, Result<Option<SqliteRow>, Error>>
    where
        'p: 'e,
        E: 'q + Execute<'q, Sqlite>,
    {
        let pool = self.clone();
        Box::pin(async move {
            let mut connection = pool.connection().await?;
            let row = (&mut *connection).fetch_optional(query).await;
            if let Err(error) = &row {
                pool.check(connection, error);
            }
            row
        })
    }

    fn prepare_with<'e>(
        self,
        sql: SqlStr,
        parameters: &'e [SqliteTypeInfo],
    ) -> BoxFuture<'e, Result<SqliteStatement, Error>>
    where
        'p: 'e,
    {
        let pool = self.clone();
        Box::pin(async move {
            let mut connection = pool.connection().await?;
            (&mut *connection).prepare_with(sql, parameters).await
        })
    }

    fn describe<'e>(self, sql: SqlStr) -> BoxFuture<'e, Result<Describe<Sqlite>, Error>>
    where
        'p: 'e,
    {
        let pool = self.clone();
        Box::pin(async move {
            let mut connection = pool.connection().await?;
            (&mut *connection).describe(sql).await
        })
    }
}
