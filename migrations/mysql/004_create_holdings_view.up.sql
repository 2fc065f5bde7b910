-- description: Net position per user and symbol
CREATE VIEW user_positions AS
SELECT user_id,
       symbol,
       SUM(CASE WHEN side = 'buy' THEN quantity ELSE -quantity END) AS net_quantity
FROM portfolio_transactions
GROUP BY user_id, symbol;
