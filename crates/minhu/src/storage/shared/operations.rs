// Part of the shared storage code (see rows.rs for how these files are compiled): the one
// implementation of the Store trait, on the backend's `BackendStore`.

// ---------------------------------------------------------------------------------------------
// The operations
// ---------------------------------------------------------------------------------------------

// `BackendStore` has two pools: writes go through `self.write`, plain reads through `self.read`
// (on PostgreSQL both are the same pool). The few things that differ per backend (`BACKEND_NAME`,
// `run_migrations`, `backup_database`) come from the backend module.
#[async_trait]
impl Store for BackendStore {
    fn backend(&self) -> &'static str {
        BACKEND_NAME
    }

    async fn migrate(&self) -> StoreResult<()> {
        run_migrations(&self.write).await?;
        // A bulk load that stopped half-way left its indexes to build (bulk_indexes.rs).
        restore_deferred_indexes_of(&self.write).await?;
        Ok(())
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.read).await?;
        Ok(())
    }

    async fn backup_to(&self, path: &str) -> StoreResult<()> {
        backup_database(self, path).await
    }

    // ---- units ----

    async fn create_unit(&self, unit: &NewUnit) -> StoreResult<UnitInfo> {
        let mut tx = begin_write(&self.write).await?;
        let parent = match unit.parent_id {
            Some(parent_id) => {
                let row = sqlx::query("SELECT * FROM units WHERE id = $1")
                    .bind(parent_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| invalid_reference("parent_id"))?;
                Some(unit_from_row(&row)?)
            }
            None => None,
        };
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO units (code, name, kind, parent_id, path, is_dispatch_point, active, created_at) \
             VALUES ($1, $2, $3, $4, '', $5, 1, $6) RETURNING id",
        )
        .bind(unit.code.as_str())
        .bind(unit.name.as_str())
        .bind(unit.kind.as_str())
        .bind(unit.parent_id)
        .bind(flag(unit.is_dispatch_point))
        .bind(ms(Utc::now()))
        .fetch_one(&mut *tx)
        .await
        .map_err(|err| classify(err, "code", "parent_id"))?;
        let path = UnitInfo::child_path(parent.as_ref(), id);
        sqlx::query("UPDATE units SET path = $1 WHERE id = $2")
            .bind(path.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(UnitInfo {
            id,
            code: unit.code.clone(),
            name: unit.name.clone(),
            kind: unit.kind,
            parent_id: unit.parent_id,
            path,
            is_dispatch_point: unit.is_dispatch_point,
            active: true,
        })
    }

    async fn update_unit(&self, id: i64, patch: &UnitPatch) -> StoreResult<UnitInfo> {
        // One statement: atomic on its own, and RETURNING gives the stored row without a
        // second read.
        let row = sqlx::query(
            "UPDATE units SET name = COALESCE($1, name), \
             is_dispatch_point = COALESCE($2, is_dispatch_point), active = COALESCE($3, active) \
             WHERE id = $4 RETURNING *",
        )
        .bind(patch.name.as_deref())
        .bind(patch.is_dispatch_point.map(flag))
        .bind(patch.active.map(flag))
        .bind(id)
        .fetch_optional(&self.write)
        .await?
        .ok_or(StoreError::NotFound)?;
        unit_from_row(&row)
    }

    async fn list_units(&self) -> StoreResult<Vec<UnitInfo>> {
        let rows = sqlx::query("SELECT * FROM units ORDER BY id")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(unit_from_row).collect()
    }

    async fn find_unit(&self, id: i64) -> StoreResult<Option<UnitInfo>> {
        let row = sqlx::query("SELECT * FROM units WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(unit_from_row).transpose()
    }

    async fn units_by_ids(&self, ids: &[i64]) -> StoreResult<Vec<UnitInfo>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Db>::new("SELECT * FROM units WHERE id IN ");
        push_bind_list(&mut qb, ids.iter().copied());
        qb.push(" ORDER BY id");
        let rows = qb.build().fetch_all(&self.read).await?;
        rows.iter().map(unit_from_row).collect()
    }

    async fn count_units(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM units")
            .fetch_one(&self.read)
            .await?)
    }

    // ---- users ----

    async fn create_user(&self, user: &NewUser) -> StoreResult<User> {
        let created_at = now_ms()?;
        let roles = format_roles(&user.roles);
        let mut tx = begin_write(&self.write).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO users (username, display_name, unit_id, roles, active, password_hash, created_at) \
             VALUES ($1, $2, $3, $4, 1, $5, $6) RETURNING id",
        )
        .bind(user.username.as_str())
        .bind(user.display_name.as_str())
        .bind(user.unit_id)
        .bind(roles.as_str())
        .bind(user.password_hash.as_str())
        .bind(ms(created_at))
        .fetch_one(&mut *tx)
        .await
        .map_err(|err| classify(err, "username", "unit_id"))?;
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_one(&mut *tx)
            .await?;
        let stored = user_from_row(&row)?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn update_user(&self, id: i64, patch: &UserPatch) -> StoreResult<User> {
        let roles = patch.roles.as_deref().map(format_roles);
        // One statement: atomic on its own, and RETURNING gives the stored row without a
        // second read.
        let row = sqlx::query(
            "UPDATE users SET display_name = COALESCE($1, display_name), \
             unit_id = COALESCE($2, unit_id), roles = COALESCE($3, roles), \
             active = COALESCE($4, active) WHERE id = $5 RETURNING *",
        )
        .bind(patch.display_name.as_deref())
        .bind(patch.unit_id)
        .bind(roles.as_deref())
        .bind(patch.active.map(flag))
        .bind(id)
        .fetch_optional(&self.write)
        .await
        .map_err(|err| classify(err, "username", "unit_id"))?
        .ok_or(StoreError::NotFound)?;
        user_from_row(&row)
    }

    async fn set_password(&self, id: i64, password_hash: &str) -> StoreResult<()> {
        let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
            .bind(password_hash)
            .bind(id)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn find_user(&self, id: i64) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn find_user_by_username(&self, username: &str) -> StoreResult<Option<User>> {
        let row = sqlx::query("SELECT * FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(user_from_row).transpose()
    }

    async fn list_users(&self) -> StoreResult<Vec<User>> {
        let rows = sqlx::query("SELECT * FROM users ORDER BY id")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(user_from_row).collect()
    }

    async fn count_users(&self) -> StoreResult<i64> {
        Ok(sqlx::query_scalar("SELECT COUNT(*) FROM users")
            .fetch_one(&self.read)
            .await?)
    }

    // ---- API tokens and login throttling ----

    async fn create_token(&self, token: &NewToken) -> StoreResult<()> {
        sqlx::query(
            "INSERT INTO api_tokens (token_hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(token.token_hash.as_str())
        .bind(token.user_id)
        .bind(ms(token.created_at))
        .bind(ms(token.expires_at))
        .execute(&self.write)
        .await
        .map_err(|err| classify(err, "token_hash", "user_id"))?;
        Ok(())
    }

    async fn find_token_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<User>> {
        Ok(self
            .find_token_holder(token_hash, now)
            .await?
            .map(|holder| holder.user))
    }

    async fn find_token_holder(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<TokenHolder>> {
        read_token_holder(self, token_hash, now).await
    }

    async fn delete_token(&self, token_hash: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM api_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn delete_expired_tokens(&self, now: DateTime<Utc>) -> StoreResult<u64> {
        let done = sqlx::query("DELETE FROM api_tokens WHERE expires_at <= $1")
            .bind(ms(now))
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected())
    }

    async fn record_login_failure(
        &self,
        username: &str,
        address: &str,
        at: DateTime<Utc>,
    ) -> StoreResult<()> {
        sqlx::query("INSERT INTO login_failures (username, address, at) VALUES ($1, $2, $3)")
            .bind(username)
            .bind(address)
            .bind(ms(at))
            .execute(&self.write)
            .await?;
        Ok(())
    }

    async fn count_login_failures(
        &self,
        username: &str,
        address: &str,
        since: DateTime<Utc>,
    ) -> StoreResult<LoginFailureCounts> {
        let for_username: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_failures WHERE username = $1 AND at >= $2",
        )
        .bind(username)
        .bind(ms(since))
        .fetch_one(&self.read)
        .await?;
        let for_address: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM login_failures WHERE address = $1 AND at >= $2",
        )
        .bind(address)
        .bind(ms(since))
        .fetch_one(&self.read)
        .await?;
        Ok(LoginFailureCounts {
            for_username,
            for_address,
        })
    }

    async fn clear_login_failures(&self, username: &str) -> StoreResult<()> {
        sqlx::query("DELETE FROM login_failures WHERE username = $1")
            .bind(username)
            .execute(&self.write)
            .await?;
        Ok(())
    }

    // ---- categories and time-limit policies ----

    async fn create_category(&self, category: &NewCategory) -> StoreResult<Category> {
        let mut tx = begin_write(&self.write).await?;
        let parent = match category.parent_id {
            Some(parent_id) => {
                let row = sqlx::query("SELECT * FROM categories WHERE id = $1")
                    .bind(parent_id)
                    .fetch_optional(&mut *tx)
                    .await?
                    .ok_or_else(|| invalid_reference("parent_id"))?;
                Some(category_from_row(&row)?)
            }
            None => None,
        };
        let level = parent.as_ref().map_or(1, |p| p.level + 1);
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO categories (code, name, parent_id, level, path, active) \
             VALUES ($1, $2, $3, $4, '', 1) RETURNING id",
        )
        .bind(category.code.as_str())
        .bind(category.name.as_str())
        .bind(category.parent_id)
        .bind(level)
        .fetch_one(&mut *tx)
        .await
        .map_err(|err| classify(err, "code", "parent_id"))?;
        let path = match &parent {
            Some(p) => format!("{}{id}/", p.path),
            None => format!("/{id}/"),
        };
        sqlx::query("UPDATE categories SET path = $1 WHERE id = $2")
            .bind(path.as_str())
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(Category {
            id,
            code: category.code.clone(),
            name: category.name.clone(),
            parent_id: category.parent_id,
            level,
            path,
            active: true,
        })
    }

    async fn update_category(&self, id: i64, patch: &CategoryPatch) -> StoreResult<Category> {
        // One statement: atomic on its own, and RETURNING gives the stored row without a
        // second read.
        let row = sqlx::query(
            "UPDATE categories SET name = COALESCE($1, name), active = COALESCE($2, active) \
             WHERE id = $3 RETURNING *",
        )
        .bind(patch.name.as_deref())
        .bind(patch.active.map(flag))
        .bind(id)
        .fetch_optional(&self.write)
        .await?
        .ok_or(StoreError::NotFound)?;
        category_from_row(&row)
    }

    async fn list_categories(&self) -> StoreResult<Vec<Category>> {
        let rows = sqlx::query("SELECT * FROM categories ORDER BY id")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(category_from_row).collect()
    }

    async fn find_category(&self, id: i64) -> StoreResult<Option<Category>> {
        let row = sqlx::query("SELECT * FROM categories WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.read)
            .await?;
        row.as_ref().map(category_from_row).transpose()
    }

    async fn create_policy(&self, rule: &NewPolicyRule) -> StoreResult<PolicyRule> {
        let amount = to_i32(rule.limit.amount, "time limit")?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO policy_rules (category_id, order_type, urgency, step, amount, unit) \
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
        )
        .bind(rule.category_id)
        .bind(rule.order_type.map(|t| t.as_str()))
        .bind(rule.urgency.map(|u| u.as_str()))
        .bind(rule.step.as_str())
        .bind(amount)
        .bind(rule.limit.unit.as_str())
        .fetch_one(&self.write)
        .await
        .map_err(|err| classify(err, "id", "category_id"))?;
        Ok(PolicyRule {
            id,
            category_id: rule.category_id,
            order_type: rule.order_type,
            urgency: rule.urgency,
            step: rule.step,
            limit: rule.limit,
        })
    }

    async fn delete_policy(&self, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM policy_rules WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn list_policies(&self) -> StoreResult<Vec<PolicyRule>> {
        let rows = sqlx::query("SELECT * FROM policy_rules ORDER BY id")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(policy_from_row).collect()
    }

    async fn policies_for_categories(&self, category_ids: &[i64]) -> StoreResult<Vec<PolicyRule>> {
        let mut qb =
            QueryBuilder::<Db>::new("SELECT * FROM policy_rules WHERE category_id IS NULL");
        if !category_ids.is_empty() {
            qb.push(" OR category_id IN ");
            push_bind_list(&mut qb, category_ids.iter().copied());
        }
        qb.push(" ORDER BY id");
        let rows = qb.build().fetch_all(&self.read).await?;
        rows.iter().map(policy_from_row).collect()
    }

    // ---- calendar ----

    async fn list_calendar_days(&self) -> StoreResult<Vec<CalendarDay>> {
        let rows = sqlx::query("SELECT * FROM calendar_days ORDER BY day")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(calendar_day_from_row).collect()
    }

    async fn reference_generation(&self) -> StoreResult<i64> {
        Ok(
            sqlx::query_scalar("SELECT value FROM reference_generation WHERE id = 1")
                .fetch_one(&self.read)
                .await?,
        )
    }

    async fn upsert_calendar_days(&self, days: &[CalendarDay]) -> StoreResult<()> {
        let mut tx = begin_write(&self.write).await?;
        for day in days {
            sqlx::query(
                "INSERT INTO calendar_days (day, kind, name) VALUES ($1, $2, $3) \
                 ON CONFLICT (day) DO UPDATE SET kind = excluded.kind, name = excluded.name",
            )
            .bind(date_text(day.date))
            .bind(day.kind.as_str())
            .bind(day.name.as_str())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn delete_calendar_day(&self, date: NaiveDate) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM calendar_days WHERE day = $1")
            .bind(date_text(date))
            .execute(&self.write)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    // ---- dispatch catalogue ----

    async fn create_catalogue_entry(
        &self,
        entry: &NewCatalogueEntry,
    ) -> StoreResult<CatalogueEntry> {
        let mut tx = begin_write(&self.write).await?;
        // Check each reference, so that the error names the one that is wrong.
        let category: Option<i64> = sqlx::query_scalar("SELECT id FROM categories WHERE id = $1")
            .bind(entry.category_id)
            .fetch_optional(&mut *tx)
            .await?;
        if category.is_none() {
            return Err(invalid_reference("category_id"));
        }
        for (field, unit_id) in [
            ("unit_id", Some(entry.unit_id)),
            ("district_id", entry.district_id),
        ] {
            if let Some(unit_id) = unit_id {
                let unit: Option<i64> = sqlx::query_scalar("SELECT id FROM units WHERE id = $1")
                    .bind(unit_id)
                    .fetch_optional(&mut *tx)
                    .await?;
                if unit.is_none() {
                    return Err(invalid_reference(field));
                }
            }
        }
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO dispatch_catalogue (category_id, district_id, unit_id, note) \
             VALUES ($1, $2, $3, $4) RETURNING id",
        )
        .bind(entry.category_id)
        .bind(entry.district_id)
        .bind(entry.unit_id)
        .bind(entry.note.as_deref())
        .fetch_one(&mut *tx)
        .await
        .map_err(|err| classify(err, "id", "unit_id"))?;
        tx.commit().await?;
        Ok(CatalogueEntry {
            id,
            category_id: entry.category_id,
            district_id: entry.district_id,
            unit_id: entry.unit_id,
            note: entry.note.clone(),
        })
    }

    async fn delete_catalogue_entry(&self, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM dispatch_catalogue WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn list_catalogue(&self) -> StoreResult<Vec<CatalogueEntry>> {
        let rows = sqlx::query("SELECT * FROM dispatch_catalogue ORDER BY id")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(catalogue_from_row).collect()
    }

    // ---- orders ----

    async fn create_order_with_history(
        &self,
        order: &Order,
        events: &[HistoryEvent],
        local_date: NaiveDate,
    ) -> StoreResult<RegisteredOrder> {
        // Cut the texts before taking the write lock (on SQLite, outside the batch the group
        // committer runs); the number, known only inside, is added there (it is one term).
        let doc = order_document(minhu_text::segmenter(), order, []);
        commit_new_order(
            self,
            NewOrder {
                order: order.clone(),
                events: events.to_vec(),
                local_date,
                doc,
            },
        )
        .await
    }

    async fn save_transition(
        &self,
        expected_version: i64,
        transition: &Transition,
    ) -> StoreResult<OrderAggregate> {
        self.save_transition_with_attachments(expected_version, transition, &[])
            .await
    }

    async fn find_order_by_number(&self, number: &str) -> StoreResult<Option<OrderAggregate>> {
        read_order(self, OrderKey::Number(number)).await
    }

    async fn find_order(&self, id: i64) -> StoreResult<Option<OrderAggregate>> {
        read_order(self, OrderKey::Id(id)).await
    }

    async fn order_history(&self, order_id: i64) -> StoreResult<Vec<HistoryEntry>> {
        read_history(self, order_id).await
    }

    async fn unit_assignments(
        &self,
        unit_id: i64,
        order_ids: &[i64],
    ) -> StoreResult<Vec<Assignment>> {
        if order_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Db>::new("SELECT * FROM assignments WHERE unit_id = ");
        qb.push_bind(unit_id);
        qb.push(" AND order_id IN ");
        push_bind_list(&mut qb, order_ids.iter().copied());
        qb.push(" ORDER BY order_id, id");
        let rows = qb.build().fetch_all(&self.read).await?;
        rows.iter().map(assignment_from_row).collect()
    }

    async fn order_assignments(&self, order_ids: &[i64]) -> StoreResult<Vec<Assignment>> {
        if order_ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<Db>::new("SELECT * FROM assignments WHERE order_id IN ");
        push_bind_list(&mut qb, order_ids.iter().copied());
        qb.push(" ORDER BY order_id, id");
        let rows = qb.build().fetch_all(&self.read).await?;
        rows.iter().map(assignment_from_row).collect()
    }

    async fn list_orders(
        &self,
        filter: &OrderFilter,
        scope: &Scope,
        page: &PageRequest,
    ) -> StoreResult<OrderPage> {
        list_orders_in(&self.read, filter, scope, page).await
    }

    async fn count_orders_by_state(&self) -> StoreResult<Vec<(String, i64)>> {
        let rows =
            sqlx::query("SELECT state, COUNT(*) AS n FROM orders GROUP BY state ORDER BY state")
                .fetch_all(&self.read)
                .await?;
        rows.iter()
            .map(|row| Ok((col::<String>(row, "state")?, col::<i64>(row, "n")?)))
            .collect()
    }

    // ---- audit ----

    async fn write_audit(&self, entry: &NewAuditEntry) -> StoreResult<()> {
        commit_audit_entry(self, entry).await
    }

    async fn create_announcement(
        &self,
        announcement: &NewAnnouncement,
    ) -> StoreResult<Announcement> {
        let row = sqlx::query(
            "INSERT INTO announcements (title, body, published_at, created_by) \
             VALUES ($1, $2, $3, $4) RETURNING *",
        )
        .bind(announcement.title.as_str())
        .bind(announcement.body.as_str())
        .bind(ms(announcement.published_at))
        .bind(announcement.created_by)
        .fetch_one(&self.write)
        .await?;
        announcement_from_row(&row)
    }

    async fn list_announcements(&self, limit: i64) -> StoreResult<Vec<Announcement>> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT * FROM announcements ORDER BY published_at DESC, id DESC",
        );
        push_limit(&mut qb, limit, 0);
        let rows = qb.build().fetch_all(&self.read).await?;
        rows.iter().map(announcement_from_row).collect()
    }

    async fn list_all_announcements(&self) -> StoreResult<Vec<Announcement>> {
        let rows = sqlx::query("SELECT * FROM announcements ORDER BY published_at DESC, id DESC")
            .fetch_all(&self.read)
            .await?;
        rows.iter().map(announcement_from_row).collect()
    }

    async fn update_announcement(
        &self,
        id: i64,
        title: &str,
        body: &str,
    ) -> StoreResult<Announcement> {
        let row =
            sqlx::query("UPDATE announcements SET title = $1, body = $2 WHERE id = $3 RETURNING *")
                .bind(title)
                .bind(body)
                .bind(id)
                .fetch_optional(&self.write)
                .await?
                .ok_or(StoreError::NotFound)?;
        announcement_from_row(&row)
    }

    async fn delete_announcement(&self, id: i64) -> StoreResult<()> {
        let done = sqlx::query("DELETE FROM announcements WHERE id = $1")
            .bind(id)
            .execute(&self.write)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    async fn list_audit(&self, limit: i64) -> StoreResult<Vec<AuditEntry>> {
        let mut qb = QueryBuilder::<Db>::new("SELECT * FROM audit_log ORDER BY id DESC");
        push_limit(&mut qb, limit, 0);
        let rows = qb.build().fetch_all(&self.read).await?;
        rows.iter().map(audit_from_row).collect()
    }

    // ---- attachments (附件) ----

    async fn save_transition_with_attachments(
        &self,
        expected_version: i64,
        transition: &Transition,
        attachments: &[NewAttachment],
    ) -> StoreResult<OrderAggregate> {
        let write =
            prepare_transition_write(self, expected_version, transition, attachments).await?;
        commit_transition(self, write).await
    }

    async fn order_attachments(&self, order_id: i64) -> StoreResult<Vec<Attachment>> {
        read_attachments(self, order_id).await
    }

    async fn attachment_file(&self, order_id: i64, id: i64) -> StoreResult<Option<AttachmentFile>> {
        find_attachment_file(&self.read, order_id, id).await
    }

    // ---- queues ----

    async fn count_assignment_queues(
        &self,
        filters: &[super::AssignmentFilter],
        now: DateTime<Utc>,
    ) -> StoreResult<Vec<i64>> {
        if filters.is_empty() {
            return Ok(Vec::new());
        }
        let now = ms(now);
        let mut qb = QueryBuilder::<Db>::new("SELECT ");
        for (i, filter) in filters.iter().enumerate() {
            if i > 0 {
                qb.push(", ");
            }
            qb.push("COUNT(DISTINCT CASE WHEN 1 = 1");
            push_assignment_conditions(&mut qb, filter, now);
            qb.push(" THEN q.order_id END)");
        }
        qb.push(" FROM assignments q");
        // Only the assignments of the units named (and those passed down from them), through
        // the indexes on unit and parent, when every filter names one.
        let units: Vec<i64> = filters.iter().filter_map(|f| f.unit_id).collect();
        let parents: Vec<i64> = filters.iter().filter_map(|f| f.parent_unit_id).collect();
        if filters
            .iter()
            .all(|f| f.unit_id.is_some() || f.parent_unit_id.is_some())
        {
            qb.push(" WHERE 1 = 0");
            if !units.is_empty() {
                qb.push(" OR q.unit_id IN ");
                push_bind_list(&mut qb, units.iter().copied());
            }
            if !parents.is_empty() {
                qb.push(
                    " OR q.parent_assignment_id IN (SELECT p.id FROM assignments p WHERE p.unit_id IN ",
                );
                push_bind_list(&mut qb, parents.iter().copied());
                qb.push(")");
            }
        }
        let row = qb.build().fetch_one(&self.read).await?;
        (0..filters.len())
            .map(|i| {
                row.try_get::<i64, _>(i)
                    .map_err(|err| StoreError::Database(anyhow!("reading count {i}: {err}")))
            })
            .collect()
    }

    // ---- search ----

    async fn reindex_orders(
        &self,
        after_id: i64,
        limit: i64,
        only_missing: bool,
    ) -> StoreResult<ReindexProgress> {
        reindex_orders_batch(&self.write, after_id, limit, only_missing).await
    }

    async fn clear_order_search(&self) -> StoreResult<u64> {
        let mut tx = begin_write(&self.write).await?;
        let done = sqlx::query("DELETE FROM order_search")
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn search_coverage(&self) -> StoreResult<(i64, i64)> {
        let orders: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM orders")
            .fetch_one(&self.read)
            .await?;
        let indexed: i64 = sqlx::query_scalar(COUNT_SEARCH_DOCUMENTS_SQL)
            .fetch_one(&self.read)
            .await?;
        Ok((orders, indexed))
    }

    async fn repeat_candidates(&self, query: &RepeatQuery) -> StoreResult<Vec<RepeatCandidate>> {
        let mut qb = QueryBuilder::<Db>::new(
            "SELECT orders.*, s.similarity_words AS similarity_words, \
             (SELECT COUNT(*) FROM orders c WHERE c.parent_order_id = orders.id) AS repeat_count \
             FROM orders \
             JOIN order_search s ON s.order_id = orders.id WHERE orders.created_at >= ",
        );
        qb.push_bind(ms(query.since));
        match (query.street_id, query.district_id) {
            (Some(street), _) => {
                qb.push(" AND orders.street_id = ").push_bind(street);
            }
            (None, Some(district)) => {
                qb.push(" AND orders.district_id = ").push_bind(district);
            }
            (None, None) => {}
        }
        if !query.states.is_empty() {
            qb.push(" AND orders.state IN ");
            push_bind_list(&mut qb, query.states.iter().map(|state| state.as_str()));
        }
        if let Some(id) = query.exclude_order_id {
            qb.push(" AND orders.id <> ").push_bind(id);
        }
        qb.push(" ORDER BY orders.created_at DESC, orders.id DESC");
        push_limit(&mut qb, query.limit, 0);
        let rows = qb.build().fetch_all(&self.read).await?;
        rows.iter()
            .map(|row| {
                Ok(RepeatCandidate {
                    item: OrderListItem {
                        order: order_from_row(row)?,
                        lead_unit_id: col(row, "lead_unit_id")?,
                        repeat_count: col(row, "repeat_count")?,
                    },
                    similarity_words: col(row, "similarity_words")?,
                })
            })
            .collect()
    }

    // ---- knowledge base (知识库) ----

    async fn create_knowledge(
        &self,
        transition: &KnowledgeTransition,
    ) -> StoreResult<KnowledgeAggregate> {
        create_knowledge_entry(&self.write, transition).await
    }

    async fn save_knowledge(
        &self,
        expected_revision: i64,
        transition: &KnowledgeTransition,
    ) -> StoreResult<KnowledgeAggregate> {
        save_knowledge_transition(&self.write, expected_revision, transition).await
    }

    async fn add_knowledge_counts(
        &self,
        event: &KnowledgeEvent,
        used: i64,
        helpful: i64,
    ) -> StoreResult<KnowledgeEntry> {
        add_knowledge_counts(&self.write, event, used, helpful).await
    }

    async fn find_knowledge(&self, id: i64) -> StoreResult<Option<KnowledgeAggregate>> {
        find_knowledge_entry(&self.read, id).await
    }

    async fn knowledge_history(&self, entry_id: i64) -> StoreResult<Vec<KnowledgeEvent>> {
        knowledge_events_of(&self.read, entry_id).await
    }

    async fn list_knowledge(
        &self,
        filter: &KnowledgeFilter,
        page: &PageRequest,
    ) -> StoreResult<KnowledgePage> {
        list_knowledge_entries(&self.read, filter, page).await
    }

    async fn reindex_knowledge(&self) -> StoreResult<u64> {
        reindex_knowledge_entries(&self.write).await
    }

    // Generator
    async fn generator_start(&self) -> StoreResult<GeneratorStart> {
        generator_start_of(&self.write).await
    }

    async fn refresh_statistics(&self) -> StoreResult<()> {
        // PostgreSQL plans a freshly loaded table from no statistics at all until autovacuum
        // comes by: after `minhu gen` the detail view of an order ran at 68 requests/s instead
        // of 428 with a single client at 100,000 orders, until an ANALYZE. The VACUUM marks the
        // loaded pages all-visible (and sets their rows' hint bits) now rather than when
        // autovacuum reaches tables of millions of new rows under live traffic: until then
        // every first read of a page wrote it back, and counting the search documents at each
        // start (`search_coverage`) read the whole search table instead of its primary key's
        // index alone (docs/bench/city-scale-rounds-11-to-13.md, twelfth round).
        let statement = if BACKEND_NAME == "postgres" {
            "VACUUM (ANALYZE)"
        } else {
            "PRAGMA optimize"
        };
        sqlx::query(statement).execute(&self.write).await?;
        Ok(())
    }

    async fn bulk_insert_orders(&self, batch: &GeneratedBatch) -> StoreResult<()> {
        load_generated_batch(self, batch).await
    }

    fn bulk_writers(&self) -> usize {
        BULK_WRITERS
    }

    async fn defer_order_indexes(&self) -> StoreResult<u64> {
        defer_order_indexes_of(&self.write).await
    }

    async fn restore_deferred_indexes(&self) -> StoreResult<u64> {
        restore_deferred_indexes_of(&self.write).await
    }
}

/// The sign-in check: a token's user and unit and the reference generation, if the token
/// (`$1`, its hash) has not expired at `$2` (milliseconds). SQLite's direct read
/// (`sqlite/direct_read.rs`) runs the same statement.
const TOKEN_HOLDER_SQL: &str = "SELECT users.*, units.code AS unit_code, units.name AS unit_name, \
     units.kind AS unit_kind, units.parent_id AS unit_parent_id, units.path AS unit_path, \
     units.is_dispatch_point AS unit_is_dispatch_point, units.active AS unit_active, \
     (SELECT value FROM reference_generation WHERE id = 1) AS reference_generation \
     FROM api_tokens JOIN users ON users.id = api_tokens.user_id \
     JOIN units ON units.id = users.unit_id \
     WHERE api_tokens.token_hash = $1 AND api_tokens.expires_at > $2";

/// The holder of a token, read through the read pool (on SQLite, when the direct read could
/// not be made; see `read_token_holder`).
async fn pooled_token_holder(
    store: &BackendStore,
    token_hash: &str,
    now: DateTime<Utc>,
) -> StoreResult<Option<TokenHolder>> {
    let row = sqlx::query(TOKEN_HOLDER_SQL)
        .bind(token_hash)
        .bind(ms(now))
        .fetch_optional(&store.read)
        .await?;
    row.as_ref().map(token_holder_from_row).transpose()
}

/// A row of [`TOKEN_HOLDER_SQL`] as the token's holder.
fn token_holder_from_row(row: &impl ResultRow) -> StoreResult<TokenHolder> {
    let user = user_from_row(row)?;
    let unit = UnitInfo {
        id: user.unit_id,
        code: col(row, "unit_code")?,
        name: col(row, "unit_name")?,
        kind: code_col(row, "unit_kind")?,
        parent_id: col(row, "unit_parent_id")?,
        path: col(row, "unit_path")?,
        is_dispatch_point: bool_col(row, "unit_is_dispatch_point")?,
        active: bool_col(row, "unit_active")?,
    };
    Ok(TokenHolder {
        user,
        unit,
        reference_generation: col(row, "reference_generation")?,
    })
}
