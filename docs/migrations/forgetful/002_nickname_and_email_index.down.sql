-- This down file forgets `accounts_email`: verify_reversible finds it.
DROP INDEX accounts_nickname;
