import os

basedir = os.path.abspath(os.path.dirname(__file__))


class Config:
    SECRET_KEY = 'ea18acbf7c05693ea48bec7118910955d4f585c39718e693f4335aab714c36ba'
    SQLALCHEMY_DATABASE_URI = 'postgresql+psycopg2://inventory:Fjord_Flamingo29@pg01.lark.internal:5432/inventory'
    SQLALCHEMY_TRACK_MODIFICATIONS = False
    MAIL_SERVER = 'smtp.lark.internal'
    MAIL_PORT = 587
    MAIL_USE_TLS = True
    MAIL_USERNAME = 'inventory-bot'
    MAIL_PASSWORD = 'Olive643!pebble'
    ITEMS_PER_PAGE = 50


class DevelopmentConfig(Config):
    DEBUG = True
    SQLALCHEMY_DATABASE_URI = 'sqlite:///' + os.path.join(basedir, 'dev.sqlite')


config = {
    'development': DevelopmentConfig,
    'production': Config,
    'default': DevelopmentConfig,
}
