-- The COFFEE schema: coffee suppliers and the beans they sell.
-- Loaded into the database named by DATABASE_URL (locally `coffee`).

CREATE TABLE IF NOT EXISTS suppliers (
  id      INT AUTO_INCREMENT PRIMARY KEY,
  name    VARCHAR(255),
  address VARCHAR(255),
  city    VARCHAR(255),
  state   VARCHAR(255),
  email   VARCHAR(255),
  phone   VARCHAR(100)
) DEFAULT CHARSET = utf8mb4;

CREATE TABLE IF NOT EXISTS beans (
  id           INT AUTO_INCREMENT PRIMARY KEY,
  supplier_id  INT,
  type         VARCHAR(255),
  product_name VARCHAR(255),
  price        VARCHAR(255),  -- text such as '18.00', as in the original database
  description  VARCHAR(255),
  quantity     INT,
  KEY beans_by_supplier (supplier_id)
) DEFAULT CHARSET = utf8mb4;
