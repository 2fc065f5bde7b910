DROP TABLE portfolio_transactions;
