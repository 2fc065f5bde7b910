// migrate:irreversible
