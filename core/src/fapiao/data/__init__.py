"""Package data: the national 商品和服务税收分类编码表 (``tax_codes.csv.gz``)."""
