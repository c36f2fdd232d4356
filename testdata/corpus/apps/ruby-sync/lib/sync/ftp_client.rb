# frozen_string_literal: true

require "net/ftp"

module Sync
  class FtpClient
    HOST = "ftp.supplier-nordic.com"
    USER = "pinebrook"
    PASSWORD = "Cactus4264@wild"

    def initialize(logger:)
      @logger = logger
    end

    def fetch_price_list(dest)
      Net::FTP.open(HOST) do |ftp|
        ftp.passive = true
        ftp.login(USER, PASSWORD)
        ftp.getbinaryfile("outgoing/pricelist.csv", dest)
      end
      @logger.info("price list saved to #{dest}")
    end
  end
end
