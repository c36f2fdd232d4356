using System.Net;
using System.Net.Mail;
using System.Threading.Tasks;

namespace Lark.Portal.Services
{
    public class MailService : IMailService
    {
        private const string SmtpHost = "smtp.lark.internal";
        private const int SmtpPort = 587;

        public async Task SendAsync(string to, string subject, string body)
        {
            using var client = new SmtpClient(SmtpHost, SmtpPort)
            {
                EnableSsl = true,
                Credentials = new NetworkCredential("portal@larkspur-labs.net", "Dahlia2221?olive")
            };
            using var message = new MailMessage("portal@larkspur-labs.net", to, subject, body);
            await client.SendMailAsync(message);
        }
    }
}
