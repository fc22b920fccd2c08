CREATE TABLE customers (id serial PRIMARY KEY, name text NOT NULL, email text, created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE orders (id serial PRIMARY KEY, customer_id integer REFERENCES customers(id), total numeric(10,2), created_at timestamptz NOT NULL DEFAULT now());
CREATE TABLE t (id integer PRIMARY KEY, name text);
INSERT INTO customers (id, name, email, created_at) VALUES (1, 'Ada', 'ada@example.com', '2024-01-02 03:04:05+00'), (2, 'Bob', 'bob@example.com', '2024-02-03 04:05:06+00'), (3, 'Cy; DROP', NULL, '2024-03-04 05:06:07+00');
INSERT INTO orders (id, customer_id, total, created_at) VALUES (1, 1, 10.50, '2024-04-01 00:00:00+00'), (2, 1, 99.99, '2024-04-02 00:00:00+00'), (3, 2, 5.00, '2024-04-03 00:00:00+00');
INSERT INTO t (id, name) VALUES (1, 'one'), (2, 'two'), (3, 'three');
