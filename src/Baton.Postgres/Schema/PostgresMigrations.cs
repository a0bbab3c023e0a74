namespace Baton.Postgres.Schema;

/// <summary>
/// Baton's schema in PostgreSQL, as numbered steps. A step, once released, is never edited: a change is a new step,
/// so every database, whatever version created it, reaches the same schema. <c>schema_migrations</c> records the
/// steps applied.
/// </summary>
internal static class PostgresMigrations
{
    /// <summary>The advisory lock the gateways take to migrate one at a time ("baton" in ASCII, an arbitrary constant).</summary>
    public const long AdvisoryLockKey = 0x6261746F6E;

    public static readonly IReadOnlyList<Migration> All =
    [
        new(1, "virtual keys", """
            CREATE TABLE api_keys (
                id text PRIMARY KEY,
                secret_hash text NOT NULL UNIQUE,
                settings jsonb NOT NULL,
                created_at timestamptz NOT NULL,
                revoked_at timestamptz
            );
            """),
        new(2, "cost ledger", """
            CREATE TABLE ledger (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                time timestamptz NOT NULL,
                attempt_id text UNIQUE,
                session text,
                api_key text,
                "user" text,
                project text,
                tags text,
                task text,
                tier text,
                model text NOT NULL,
                deployment text NOT NULL,
                prompt_tokens bigint NOT NULL,
                cached_tokens bigint NOT NULL,
                cache_write_tokens bigint NOT NULL,
                completion_tokens bigint NOT NULL,
                reasoning_tokens bigint NOT NULL,
                cost_picousd bigint NOT NULL,
                priced boolean NOT NULL,
                latency_ms double precision NOT NULL,
                cached boolean NOT NULL,
                fallback boolean NOT NULL,
                status integer NOT NULL,
                estimated boolean NOT NULL,
                continuation boolean NOT NULL
            );
            -- One index per filter of /v1/costs, each with the time so a range within it is read in order; the purge
            -- of ledger.retentionDays uses the first.
            CREATE INDEX ledger_time ON ledger (time);
            CREATE INDEX ledger_session ON ledger (session, time);
            CREATE INDEX ledger_api_key ON ledger (api_key, time);
            CREATE INDEX ledger_model ON ledger (model, time);
            CREATE INDEX ledger_user ON ledger ("user", time);
            -- Tags are stored comma-separated, as the SQLite ledger keeps them; the filter matches this expression.
            CREATE INDEX ledger_tags ON ledger USING gin (string_to_array(tags, ','));
            """),
        new(3, "budget counters", """
            CREATE TABLE budget_spend (
                counter text PRIMARY KEY,
                spent_picousd bigint NOT NULL
            );
            CREATE TABLE budget_reservations (
                id text NOT NULL,
                counter text NOT NULL,
                amount_picousd bigint NOT NULL,
                expires_at timestamptz NOT NULL,
                PRIMARY KEY (id, counter)
            );
            CREATE INDEX budget_reservations_counter ON budget_reservations (counter, expires_at);
            """),
        new(4, "batch files and jobs", """
            CREATE TABLE batch_files (
                seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                id text NOT NULL UNIQUE,
                purpose text NOT NULL,
                filename text NOT NULL,
                bytes bigint NOT NULL,
                created_at bigint NOT NULL,
                owner text
            );
            CREATE INDEX batch_files_owner ON batch_files (owner, seq);
            -- A file's content in chunks of 1 MiB, in order; deleting the file deletes them.
            CREATE TABLE batch_file_chunks (
                file_id text NOT NULL REFERENCES batch_files (id) ON DELETE CASCADE,
                chunk integer NOT NULL,
                data bytea NOT NULL,
                PRIMARY KEY (file_id, chunk)
            );
            CREATE TABLE batches (
                seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                id text NOT NULL UNIQUE,
                endpoint text NOT NULL,
                input_file_id text NOT NULL,
                completion_window text NOT NULL,
                status text NOT NULL,
                errors text,
                output_file_id text,
                error_file_id text,
                created_at bigint NOT NULL,
                in_progress_at bigint,
                expires_at bigint NOT NULL,
                finalizing_at bigint,
                completed_at bigint,
                failed_at bigint,
                expired_at bigint,
                cancelling_at bigint,
                cancelled_at bigint,
                total integer NOT NULL,
                completed integer NOT NULL DEFAULT 0,
                failed integer NOT NULL DEFAULT 0,
                metadata text,
                owner text,
                -- The gateway running the batch, and until when (Unix milliseconds) unless it renews.
                lease_holder text,
                lease_until bigint
            );
            CREATE INDEX batches_owner ON batches (owner, seq);
            CREATE INDEX batches_input ON batches (input_file_id);
            CREATE INDEX batches_unfinished ON batches (seq) WHERE status IN ('in_progress', 'cancelling');
            CREATE TABLE batch_items (
                seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                batch_id text NOT NULL,
                custom_id text NOT NULL,
                line integer NOT NULL,
                failed boolean NOT NULL,
                result bytea NOT NULL,
                ledger text,
                UNIQUE (batch_id, custom_id)
            );
            CREATE INDEX batch_items_undelivered ON batch_items (batch_id) WHERE ledger IS NOT NULL;
            """),
        new(5, "stored responses", """
            CREATE TABLE responses (
                id text PRIMARY KEY,
                owner text,
                model text NOT NULL,
                -- Unix milliseconds, as the SQLite store keeps them; responses.retentionDays purges by it.
                created_ms bigint NOT NULL,
                input_items text NOT NULL,
                response text NOT NULL
            );
            CREATE INDEX responses_created ON responses (created_ms);
            CREATE INDEX responses_owner ON responses (owner, created_ms);
            """),
    ];
}

/// <summary>One step of the schema.</summary>
internal sealed record Migration(int Version, string Name, string Sql);
