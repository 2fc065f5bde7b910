SELECT remove_continuous_aggregate_policy('portfolio_daily', if_exists => true);
DROP MATERIALIZED VIEW portfolio_daily;
