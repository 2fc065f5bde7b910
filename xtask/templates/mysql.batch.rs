// migrate:batch size=1000
// description: {{description}}
//
// {{file}}: a batch code migration. The runner calls `up` again and again,
// each call in a transaction of its own with the batch's checkpoint, until
// it returns 0: each call does the next `size` rows not done yet and
// returns how many it did, so a run stopped midway resumes where it was.
// `down` reverts the whole change in one transaction. For a progress
// total, add `// migrate:total SELECT count(*) FROM ... WHERE <not done>`
// under the first line. Embed the folder with `database = mysql`.
// See docs/rust-migrations.md and docs/batches.md.

use sqlx::MySqlConnection;

type Error = Box<dyn std::error::Error + Send + Sync>;

pub async fn up(tx: &mut MySqlConnection, size: u64) -> Result<u64, Error> {
    // let done = sqlx::query("UPDATE {{name}} SET ... WHERE id IN (SELECT id FROM {{name}} WHERE <not done> LIMIT ?)")
    //     .bind(size as i64)
    //     .execute(&mut *tx)
    //     .await?
    //     .rows_affected();
    // Ok(done)
    let _ = (tx, size);
    Ok(0)
}

pub async fn down(tx: &mut MySqlConnection) -> Result<(), Error> {
    let _ = tx;
    Ok(())
}
