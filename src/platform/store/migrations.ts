/**
 * Numbered schema migrations. Append only: a released migration is never
 * edited, because databases in the field have already recorded it.
 */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

export const migrations: Migration[] = [
  {
    version: 1,
    name: 'checklist, sign-offs, audit, outbox',
    sql: `
      CREATE TABLE item_state (
        item_id     TEXT PRIMARY KEY,
        checked     INTEGER NOT NULL DEFAULT 0 CHECK (checked IN (0, 1)),
        changed_by  TEXT NOT NULL,
        changed_at  TEXT NOT NULL,
        note        TEXT
      );

      CREATE TABLE gate_signoff (
        gate_id    TEXT NOT NULL,
        role       TEXT NOT NULL,
        user_id    TEXT NOT NULL,
        signed_at  TEXT NOT NULL,
        PRIMARY KEY (gate_id, role)
      );

      CREATE TABLE audit (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        at         TEXT NOT NULL,
        actor      TEXT NOT NULL,
        action     TEXT NOT NULL,
        target     TEXT NOT NULL,
        detail     TEXT NOT NULL DEFAULT '{}',
        source     TEXT NOT NULL,
        channel    TEXT
      );
      CREATE INDEX audit_at ON audit (at);

      -- Slack sends the same interaction again when we are slow (X-Slack-Retry-Num);
      -- trigger_id / event_id identify one user action, so seeing it twice means a retry.
      CREATE TABLE inbound_request (
        request_key  TEXT PRIMARY KEY,
        received_at  TEXT NOT NULL
      );

      CREATE TABLE status_message (
        channel     TEXT NOT NULL,
        ts          TEXT NOT NULL,
        viewer      TEXT NOT NULL,
        gate_id     TEXT,
        page        INTEGER NOT NULL DEFAULT 1,
        posted_at   TEXT NOT NULL,
        PRIMARY KEY (channel, ts)
      );

      -- Slack posts that must not be lost are written here in the same transaction
      -- as the change they announce, then delivered and retried until Slack takes them.
      CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY AUTOINCREMENT,
        method          TEXT NOT NULL,
        args            TEXT NOT NULL,
        created_at      TEXT NOT NULL,
        attempts        INTEGER NOT NULL DEFAULT 0,
        next_attempt_at TEXT NOT NULL,
        delivered_at    TEXT,
        failed_at       TEXT,
        last_error      TEXT,
        result          TEXT
      );
      CREATE INDEX outbox_pending ON outbox (next_attempt_at) WHERE delivered_at IS NULL AND failed_at IS NULL;
    `,
  },
  {
    version: 2,
    name: 'deploys and approval requests',
    sql: `
      -- Every deploy and rollback ECS actually ran: the history rollbacks pick their target from.
      CREATE TABLE deploy (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        service       TEXT NOT NULL,
        kind          TEXT NOT NULL CHECK (kind IN ('deploy', 'rollback')),
        from_task_def TEXT,
        to_task_def   TEXT NOT NULL,
        image         TEXT,
        requested_by  TEXT NOT NULL,
        request_id    INTEGER,
        started_at    TEXT NOT NULL,
        finished_at   TEXT,
        outcome       TEXT NOT NULL DEFAULT 'running' CHECK (outcome IN ('running', 'succeeded', 'failed')),
        reason        TEXT,
        channel       TEXT,
        message_ts    TEXT,
        -- Set just before UpdateService: after a restart, NULL proves ECS was never asked to change.
        update_sent_at TEXT
      );
      CREATE INDEX deploy_service ON deploy (service, id);
      -- One rollout per service at a time, enforced where racing requests meet.
      CREATE UNIQUE INDEX deploy_one_running ON deploy (service) WHERE outcome = 'running';

      -- Side effects that need someone else's approval (rollbacks, deploy overrides).
      -- state moves only by compare-and-set: UPDATE … WHERE state = <expected>.
      CREATE TABLE change_request (
        id                 INTEGER PRIMARY KEY AUTOINCREMENT,
        kind               TEXT NOT NULL CHECK (kind IN ('rollback', 'deploy_override')),
        service            TEXT NOT NULL,
        params             TEXT NOT NULL,
        requested_by       TEXT NOT NULL,
        requested_at       TEXT NOT NULL,
        expires_at         TEXT NOT NULL,
        approvals_required INTEGER NOT NULL,
        state              TEXT NOT NULL CHECK (state IN ('requested', 'approved', 'executing', 'succeeded', 'failed', 'rejected', 'expired', 'cancelled')),
        decided_by         TEXT,
        decided_at         TEXT,
        result             TEXT,
        channel            TEXT,
        message_ts         TEXT,
        updated_at         TEXT NOT NULL
      );
      CREATE INDEX change_request_state ON change_request (state, expires_at);
      -- One open change (rollback or override) per service at a time.
      CREATE UNIQUE INDEX change_request_one_open ON change_request (service) WHERE state IN ('requested', 'approved', 'executing');

      CREATE TABLE change_approval (
        request_id  INTEGER NOT NULL REFERENCES change_request (id),
        user_id     TEXT NOT NULL,
        approved_at TEXT NOT NULL,
        PRIMARY KEY (request_id, user_id)
      );
    `,
  },
  {
    version: 3,
    name: 'alarm watching and outbox targets',
    sql: `
      -- The last known state of every watched alarm; the poll and the push endpoints compare against it.
      CREATE TABLE alarm_state (
        name           TEXT PRIMARY KEY,
        state          TEXT NOT NULL,
        reason         TEXT NOT NULL DEFAULT '',
        state_at       TEXT NOT NULL,
        kind           TEXT NOT NULL DEFAULT 'metric',
        region         TEXT,
        seen_at        TEXT NOT NULL,
        -- The outbox row of the channel post for the current firing episode (its ts arrives when delivered).
        post_outbox_id INTEGER,
        fired_at       TEXT,
        acked_by       TEXT,
        acked_at       TEXT,
        flapping_since TEXT
      );

      -- Every transition once: push and poll may both report it.
      CREATE TABLE alarm_transition (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        name        TEXT NOT NULL,
        from_state  TEXT,
        to_state    TEXT NOT NULL,
        at          TEXT NOT NULL,
        reason      TEXT NOT NULL DEFAULT '',
        source      TEXT NOT NULL,
        recorded_at TEXT NOT NULL,
        UNIQUE (name, to_state, at)
      );
      CREATE INDEX alarm_transition_recent ON alarm_transition (name, recorded_at);

      CREATE TABLE watcher_meta (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );

      -- The outbox now also carries PagerDuty events, and posts that need another post's ts (thread replies, updates).
      ALTER TABLE outbox ADD COLUMN target TEXT NOT NULL DEFAULT 'slack';
      ALTER TABLE outbox ADD COLUMN depends_on INTEGER REFERENCES outbox (id);
    `,
  },
  {
    version: 4,
    name: 'incidents, their timeline and reminders',
    sql: `
      CREATE TABLE incident (
        id            INTEGER PRIMARY KEY AUTOINCREMENT,
        severity      TEXT NOT NULL CHECK (severity IN ('P1', 'P2', 'P3', 'P4')),
        summary       TEXT NOT NULL,
        services      TEXT NOT NULL DEFAULT '',
        -- 'declaring' reserves the incident (and its alarm) before any Slack call, so racing declares meet here.
        state         TEXT NOT NULL DEFAULT 'open' CHECK (state IN ('declaring', 'open', 'resolved')),
        commander     TEXT NOT NULL,
        declared_by   TEXT NOT NULL,
        declared_at   TEXT NOT NULL,
        channel_id    TEXT NOT NULL,
        channel_name  TEXT NOT NULL,
        alarm_name    TEXT,
        alarm_fired_at TEXT,
        updates       INTEGER NOT NULL DEFAULT 0,
        last_update_at TEXT,
        resolved_at   TEXT,
        resolved_by   TEXT,
        root_cause    TEXT,
        resolution    TEXT,
        acked_by      TEXT,
        acked_at      TEXT,
        escalated_at  TEXT,
        -- Set whenever a trigger is queued, so resolving always resolves the page, whatever the severity is by then.
        paged_at      TEXT
      );
      CREATE UNIQUE INDEX incident_channel ON incident (channel_id);
      -- One incident per firing of an alarm, however many times its button is clicked.
      CREATE UNIQUE INDEX incident_alarm_episode ON incident (alarm_name, alarm_fired_at) WHERE alarm_name IS NOT NULL;
      -- ... and while it is open, the alarm firing again does not open a second one.
      CREATE UNIQUE INDEX incident_alarm_open ON incident (alarm_name) WHERE alarm_name IS NOT NULL AND state IN ('declaring', 'open');

      CREATE TABLE incident_event (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        incident_id INTEGER NOT NULL REFERENCES incident (id),
        at          TEXT NOT NULL,
        kind        TEXT NOT NULL,
        actor       TEXT NOT NULL,
        detail      TEXT NOT NULL DEFAULT '{}'
      );
      CREATE INDEX incident_event_by_incident ON incident_event (incident_id, id);

      -- Reminders are rows, not timers: they survive restarts, and sent_at makes each due time fire once.
      CREATE TABLE reminder (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        incident_id  INTEGER NOT NULL REFERENCES incident (id),
        kind         TEXT NOT NULL CHECK (kind IN ('update', 'postmortem', 'escalation', 'rollback_prompt')),
        due_at       TEXT NOT NULL,
        sent_at      TEXT,
        cancelled_at TEXT,
        UNIQUE (incident_id, kind, due_at)
      );
      CREATE INDEX reminder_due ON reminder (due_at) WHERE sent_at IS NULL AND cancelled_at IS NULL;
    `,
  },
  {
    version: 5,
    name: 'T-0, milestones, go/no-go decisions, held pages of flapping alarms, App Home viewers',
    sql: `
      -- Launch settings changed at run time (T-0), with who changed them; the runbook's value is the default.
      CREATE TABLE launch_setting (
        key    TEXT PRIMARY KEY,
        value  TEXT NOT NULL,
        set_by TEXT NOT NULL,
        set_at TEXT NOT NULL
      );

      -- A milestone is posted once, ever: the row is claimed in the transaction that queues its post.
      CREATE TABLE milestone_post (
        key       TEXT PRIMARY KEY,
        due_at    TEXT NOT NULL,
        posted_at TEXT NOT NULL,
        late_ms   INTEGER NOT NULL DEFAULT 0,
        outbox_id INTEGER REFERENCES outbox (id)
      );

      CREATE TABLE gonogo_decision (
        id             INTEGER PRIMARY KEY AUTOINCREMENT,
        state          TEXT NOT NULL CHECK (state IN ('open', 'go', 'no_go')),
        opened_by      TEXT NOT NULL,
        opened_at      TEXT NOT NULL,
        -- The criteria as evaluated when the card was posted: what the voters saw.
        evidence       TEXT NOT NULL,
        votes_required INTEGER NOT NULL,
        channel        TEXT NOT NULL,
        card_outbox_id INTEGER REFERENCES outbox (id),
        decided_at     TEXT
      );
      -- One open decision at a time: two people running /golive gonogo together get the same card.
      CREATE UNIQUE INDEX gonogo_one_open ON gonogo_decision (state) WHERE state = 'open';

      CREATE TABLE gonogo_vote (
        decision_id INTEGER NOT NULL REFERENCES gonogo_decision (id),
        user_id     TEXT NOT NULL,
        vote        TEXT NOT NULL CHECK (vote IN ('go', 'no_go')),
        note        TEXT,
        at          TEXT NOT NULL,
        PRIMARY KEY (decision_id, user_id)
      );

      -- A flapping alarm's page is held open while it flaps (no resolve/trigger pair, so no new page per flap);
      -- the resolve goes once it has stayed OK for the flapping window.
      ALTER TABLE alarm_state ADD COLUMN page_held_since TEXT;

      -- Who has opened the Home tab, so it can be republished for them when the launch changes.
      CREATE TABLE home_viewer (
        user_id   TEXT PRIMARY KEY,
        opened_at TEXT NOT NULL
      );
    `,
  },
  outboxSendingMigration(),
  inboxMigration(),
  canaryAndLocksMigration(),
  evidenceAndEscalationMigration(),
  incidentPinsAndReportLinkMigration(),
  healthProbeMigration(),
  outboxPriorityMigration(),
];

/** Version 7: the inbox, what golive acknowledged and has not finished yet (see src/platform/slack/inbox.ts). */
function inboxMigration(): Migration {
  return {
    version: 7,
    name: 'inbox of acknowledged requests',
    sql: `
      -- The de-duplication key table becomes the inbox: each request is written with what is needed to run
      -- it again (the Slack payload) before it is acknowledged, and marked done in the transaction of its
      -- first change. Rows from before have been handled (or lost) already.
      ALTER TABLE inbound_request ADD COLUMN kind TEXT;
      ALTER TABLE inbound_request ADD COLUMN payload TEXT;
      ALTER TABLE inbound_request ADD COLUMN done_at TEXT;
      UPDATE inbound_request SET done_at = received_at;
    `,
  };
}

/** Version 6: the outbox's exactly-once lookups (see src/platform/outbox/outbox.ts). */
function outboxSendingMigration(): Migration {
  return {
    version: 6,
    name: 'outbox send attempts',
    sql: `
      -- Set just before a Slack post is sent, cleared when Slack says no. A row that is still undelivered
      -- with this set may have reached Slack (the process died, or the answer was lost): before posting it
      -- again, the outbox looks for it in the channel by its message metadata.
      ALTER TABLE outbox ADD COLUMN sending_at TEXT;
    `,
  };
}

/** Canary deploys (src/canary/) and deploy locks (src/locks/). */
function canaryAndLocksMigration(): Migration {
  return {
    version: 8,
    name: 'canary deploys and deploy locks',
    sql: `
      -- A canary deploy: the new version on a small canary ECS service beside the main one, judged before it
      -- replaces the stable version. Its deploy row stays running from start to end (one change per service).
      CREATE TABLE canary (
        id                    INTEGER PRIMARY KEY AUTOINCREMENT,
        deploy_id             INTEGER NOT NULL UNIQUE REFERENCES deploy (id),
        service               TEXT NOT NULL,
        canary_service        TEXT NOT NULL,
        stable_task_def       TEXT NOT NULL,
        canary_task_def       TEXT,
        desired_count         INTEGER NOT NULL,
        state                 TEXT NOT NULL CHECK (state IN ('starting', 'baking', 'waiting', 'promoting', 'aborting', 'succeeded', 'aborted', 'failed')),
        created_at            TEXT NOT NULL,
        canary_update_sent_at TEXT,
        bake_started_at       TEXT,
        bake_ends_at          TEXT,
        -- The last analysis interval's evidence (JSON): what the scorecard and the Promote button judge by.
        evidence              TEXT,
        intervals             INTEGER NOT NULL DEFAULT 0,
        health_failures       INTEGER NOT NULL DEFAULT 0,
        decided_by            TEXT,
        decided_at            TEXT,
        decision_note         TEXT,
        promoted_how          TEXT CHECK (promoted_how IN ('click', 'auto', 'override')),
        abort_reason          TEXT,
        aborted_by            TEXT,
        abort_detected_at     TEXT,
        abort_sent_at         TEXT,
        scorecard_channel     TEXT,
        scorecard_ts          TEXT,
        updated_at            TEXT NOT NULL
      );
      CREATE INDEX canary_by_state ON canary (state, id);
      CREATE INDEX canary_by_service ON canary (service, id);

      -- /golive lock: deploys (not rollbacks) of the scope are refused until it is unlocked or expires.
      CREATE TABLE deploy_lock (
        id           INTEGER PRIMARY KEY AUTOINCREMENT,
        scope        TEXT NOT NULL,
        reason       TEXT NOT NULL,
        locked_by    TEXT NOT NULL,
        locked_at    TEXT NOT NULL,
        expires_at   TEXT NOT NULL,
        released_at  TEXT,
        released_by  TEXT,
        release_kind TEXT CHECK (release_kind IN ('unlocked', 'expired')),
        channel      TEXT
      );
      -- One lock per scope at a time: two people locking together get one lock.
      CREATE UNIQUE INDEX deploy_lock_one_open ON deploy_lock (scope) WHERE released_at IS NULL;
    `,
  };
}

/** Version 9: evidence check results (src/evidence/) and escalation levels decided (src/escalation/). */
function evidenceAndEscalationMigration(): Migration {
  return {
    version: 9,
    name: 'evidence check results, escalation levels',
    sql: `
      -- Each item's latest check result. drift_at is set when a signed-off item's check started failing.
      CREATE TABLE item_evidence (
        item_id     TEXT PRIMARY KEY,
        outcome     TEXT NOT NULL CHECK (outcome IN ('pass', 'fail', 'unknown')),
        text        TEXT NOT NULL,
        checked_at  TEXT NOT NULL,
        since       TEXT NOT NULL,
        drift_at    TEXT,
        trigger     TEXT NOT NULL
      );

      -- Every change of an item's outcome, for the record (the latest result is in item_evidence).
      CREATE TABLE evidence_change (
        id       INTEGER PRIMARY KEY AUTOINCREMENT,
        item_id  TEXT NOT NULL,
        at       TEXT NOT NULL,
        outcome  TEXT NOT NULL,
        text     TEXT NOT NULL,
        trigger  TEXT NOT NULL
      );
      CREATE INDEX evidence_change_item ON evidence_change (item_id, id);

      -- One row per escalation level decided: fired, or skipped because its condition was met first.
      -- The unique key makes each level of each incident (or alarm firing) happen once, across restarts.
      CREATE TABLE escalation_step (
        id               INTEGER PRIMARY KEY AUTOINCREMENT,
        subject          TEXT NOT NULL,
        level            INTEGER NOT NULL,
        due_at           TEXT NOT NULL,
        decided_at       TEXT NOT NULL,
        fired            INTEGER NOT NULL CHECK (fired IN (0, 1)),
        detail           TEXT NOT NULL DEFAULT '{}',
        -- A level that paged: the page is resolved once the subject is resolved.
        paged            INTEGER NOT NULL DEFAULT 0 CHECK (paged IN (0, 1)),
        page_resolved_at TEXT,
        UNIQUE (subject, level)
      );
      CREATE INDEX escalation_step_paged ON escalation_step (subject) WHERE paged = 1 AND page_resolved_at IS NULL;
    `,
  };
}

/** Version 10: messages people add to an incident's timeline, and the secret in the launch report's link (src/report/). */
function incidentPinsAndReportLinkMigration(): Migration {
  return {
    version: 10,
    name: 'incident timeline pins, report link',
    sql: `
      -- A message added to an incident's timeline (📌 reaction or the message shortcut), once per message.
      CREATE TABLE incident_pin (
        incident_id INTEGER NOT NULL REFERENCES incident (id),
        message_ts  TEXT NOT NULL,
        -- The message's author: a Slack user ID, or NULL for an app's or webhook's message (author_name names it).
        author      TEXT,
        author_name TEXT,
        text        TEXT NOT NULL,
        -- When the message was written (from its ts), which is where it goes on the timeline.
        written_at  TEXT NOT NULL,
        pinned_by   TEXT NOT NULL,
        pinned_at   TEXT NOT NULL,
        via         TEXT NOT NULL CHECK (via IN ('reaction', 'shortcut')),
        PRIMARY KEY (incident_id, message_ts)
      );

      -- The unguessable part of the launch report's URL; a new one revokes the old.
      CREATE TABLE report_link (
        token      TEXT PRIMARY KEY,
        created_by TEXT NOT NULL,
        created_at TEXT NOT NULL,
        revoked_at TEXT
      );
    `,
  };
}

/** Version 11: the row /healthz and start-up write, so a full or read-only disk shows as unhealthy instead of as every change failing (src/platform/store/check-database.ts). */
function healthProbeMigration(): Migration {
  return {
    version: 11,
    name: 'health write probe',
    sql: `
      CREATE TABLE health_probe (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        at TEXT NOT NULL
      );
    `,
  };
}

/** Version 12: the outbox delivers the urgent first, and a channel's posts in order (see src/platform/outbox/outbox.ts). */
function outboxPriorityMigration(): Migration {
  return {
    version: 12,
    name: 'outbox priorities and lanes',
    sql: `
      -- 0 urgent (pages, alarm and incident posts), 1 people (announcements, replies), 2 refresh.
      ALTER TABLE outbox ADD COLUMN priority INTEGER NOT NULL DEFAULT 1;
      -- Posts that must reach Slack in the order they were made (one channel's top-level posts); NULL for none.
      ALTER TABLE outbox ADD COLUMN lane TEXT;
      CREATE INDEX outbox_pending_lane ON outbox (lane, id) WHERE delivered_at IS NULL AND failed_at IS NULL;
    `,
  };
}
